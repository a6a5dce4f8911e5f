import { el } from '../demo/dom.js'

/** Small live charts drawn as inline SVG: one line per series over the last half minute, no library. */

const SVG = 'http://www.w3.org/2000/svg'
const WIDTH = 300
const HEIGHT = 64
/** One point a second: the last half minute. */
export const HISTORY = 30

export interface Series {
  name: string
  color: string
}

export interface ChartOptions {
  title: string
  series: readonly Series[]
  /** How a value reads under the title (`12.5 msg/s`). */
  format: (value: number) => string
}

export class Chart {
  readonly #values: number[][]
  readonly #lines: SVGPolylineElement[]
  readonly #areas: SVGPolygonElement[]
  readonly #readings: HTMLElement[]
  readonly #scale: HTMLElement
  readonly #root: HTMLElement

  constructor(
    root: HTMLElement,
    readonly options: ChartOptions,
  ) {
    this.#root = root
    this.#values = options.series.map(() => [])
    const svg = document.createElementNS(SVG, 'svg')
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`)
    svg.setAttribute('preserveAspectRatio', 'none')
    svg.setAttribute('role', 'img')
    svg.setAttribute('aria-label', options.title)
    for (const y of [HEIGHT / 2, HEIGHT - 0.5]) {
      const grid = document.createElementNS(SVG, 'line')
      grid.setAttribute('x1', '0')
      grid.setAttribute('x2', String(WIDTH))
      grid.setAttribute('y1', String(y))
      grid.setAttribute('y2', String(y))
      grid.setAttribute('class', 'grid')
      svg.append(grid)
    }
    this.#areas = options.series.map((series) => {
      const area = document.createElementNS(SVG, 'polygon')
      area.setAttribute('fill', series.color)
      area.setAttribute('fill-opacity', '0.12')
      svg.append(area)
      return area
    })
    this.#lines = options.series.map((series) => {
      const line = document.createElementNS(SVG, 'polyline')
      line.setAttribute('fill', 'none')
      line.setAttribute('stroke', series.color)
      line.setAttribute('stroke-width', '1.8')
      line.setAttribute('stroke-linejoin', 'round')
      line.setAttribute('vector-effect', 'non-scaling-stroke')
      line.setAttribute('data-series', series.name)
      svg.append(line)
      return line
    })
    // Outside the SVG: the drawing is stretched to the card's width, text must not be.
    this.#scale = el('span', { class: 'scale', title: 'Top of the scale' })
    this.#readings = options.series.map((series) =>
      el('span', { class: 'reading', attrs: { 'data-series': series.name } }),
    )
    const legend = el(
      'div',
      { class: 'legend' },
      ...options.series.map((series, index) =>
        el(
          'span',
          { class: 'legend-item' },
          el('span', { class: 'swatch', attrs: { 'data-color': series.color } }),
          options.series.length > 1 ? `${series.name} ` : '',
          this.#readings[index] as HTMLElement,
        ),
      ),
    )
    root.append(el('h2', { text: options.title }), legend, el('div', { class: 'plot' }, this.#scale, svg))
    for (const swatch of Array.from(root.querySelectorAll<HTMLElement>('.swatch'))) {
      swatch.style.background = swatch.dataset.color ?? ''
    }
  }

  /** The next second's values, one per series. */
  push(values: readonly number[]): void {
    values.forEach((value, index) => {
      const history = this.#values[index]
      if (!history) return
      history.push(Number.isFinite(value) ? value : 0)
      if (history.length > HISTORY) history.shift()
    })
    this.#draw()
  }

  #draw(): void {
    let max = 0
    for (const history of this.#values) for (const value of history) max = Math.max(max, value)
    const top = niceCeiling(max)
    const step = WIDTH / (HISTORY - 1)
    this.#values.forEach((history, index) => {
      const offset = HISTORY - history.length
      const points = history.map((value, i) => {
        const x = (offset + i) * step
        const y = HEIGHT - 1 - (value / top) * (HEIGHT - 14)
        return `${x.toFixed(1)},${y.toFixed(1)}`
      })
      this.#lines[index]?.setAttribute('points', points.join(' '))
      const first = `${(offset * step).toFixed(1)},${HEIGHT}`
      const last = `${((HISTORY - 1) * step).toFixed(1)},${HEIGHT}`
      this.#areas[index]?.setAttribute('points', history.length ? `${first} ${points.join(' ')} ${last}` : '')
      const reading = this.#readings[index]
      if (reading) reading.textContent = this.options.format(history[history.length - 1] ?? 0)
    })
    this.#scale.textContent = this.options.format(top)
    this.#root.dataset.latest = this.#values.map((history) => history[history.length - 1] ?? 0).join(',')
  }
}

/** 1, 2, 5 × 10^n at or above the value: a scale that does not jitter every second. */
function niceCeiling(value: number): number {
  if (value <= 0) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const factor of [1, 2, 5, 10]) if (factor * power >= value) return factor * power
  return 10 * power
}

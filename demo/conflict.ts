/**
 * The conflict button. One window announces a round with a moment 1.5 s ahead; at that moment (by
 * its own clock) every window present writes its own title, plus a note of its attempt in a field
 * of its own. The title ends up the same everywhere: the write with the highest stamp.
 */
import { TITLE_FIELD } from './board.js'
import { asRecord, clockTime, el } from './dom.js'
import type { Identity } from './identity.js'

export const ROUND_FIELD = 'conflict:round'
const ATTEMPT_PREFIX = 'conflict:attempt:'
const LEAD_MS = 1500
/** A round announced longer ago than this (a page loaded later, a window back from offline) is history. */
const STALE_MS = 4000

interface Round {
  round: number
  at: number
  by: string
}

interface Attempt {
  clientId: string
  round: number
  name: string
  color: string
  value: string
  sentAt: number
}

export interface ConflictHost {
  clientId: string
  me(): Identity
  write(fields: Record<string, string | number | Record<string, string | number>>): Promise<void>
  log(text: string): void
}

export class ConflictDemo {
  /** Rounds up to this one were handled or are history. */
  private handled = -1
  private countdown: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly host: ConflictHost,
    private readonly panel: HTMLElement,
  ) {}

  /** Announce a round; every window (this one included) reacts to it in `update`. */
  start(fields: Readonly<Record<string, unknown>>): void {
    const round = (roundOf(fields[ROUND_FIELD])?.round ?? 0) + 1
    const announce: Round = { round, at: Date.now() + LEAD_MS, by: this.host.me().name }
    void this.host.write({ [ROUND_FIELD]: { ...announce } })
  }

  update(fields: Readonly<Record<string, unknown>>, synced: boolean, connected: boolean): void {
    const round = roundOf(fields[ROUND_FIELD])
    if (round && round.round > this.handled && synced) {
      this.handled = round.round
      if (connected && round.at > Date.now() - STALE_MS) this.schedule(round)
    }
    if (!this.countdown) this.renderResult(fields, round)
  }

  private schedule(round: Round): void {
    const me = this.host.me()
    const value = `${me.name}'s board`
    const showCountdown = () => {
      const left = Math.max(0, round.at - Date.now())
      this.panel.replaceChildren(
        el('p', { class: 'small muted', text: `Round ${round.round}, started by ${round.by}` }),
        el('p', { class: 'countdown', text: `${(left / 1000).toFixed(1)} s` }),
        el('p', {
          class: 'small',
          text: `until every window writes its own title at once (yours: “${value}”)`,
        }),
      )
    }
    clearInterval(this.countdown)
    this.countdown = setInterval(showCountdown, 100)
    showCountdown()
    // A timer of its own, so the write leaves on time and not on the next countdown tick.
    setTimeout(() => {
      clearInterval(this.countdown)
      this.countdown = undefined
      const attempt: Omit<Attempt, 'clientId'> = {
        round: round.round,
        name: me.name,
        color: me.color,
        value,
        sentAt: Date.now(),
      }
      this.host.log(`Round ${round.round}: wrote the title “${value}”`)
      void this.host.write({ [TITLE_FIELD]: value, [ATTEMPT_PREFIX + this.host.clientId]: attempt })
    }, round.at - Date.now())
  }

  private renderResult(fields: Readonly<Record<string, unknown>>, round: Round | undefined): void {
    if (!round) {
      this.panel.replaceChildren()
      return
    }
    const attempts = attemptsOf(fields, round.round)
    if (attempts.length === 0) {
      this.panel.replaceChildren(
        el('p', { class: 'muted small', text: `Round ${round.round}: nobody wrote yet.` }),
      )
      return
    }
    const title = fields[TITLE_FIELD]
    const winner = attempts.find((attempt) => attempt.value === title)
    const rows = attempts.map((attempt) => {
      const won = attempt === winner
      const dot = el('span', { class: 'swatch' })
      dot.style.background = attempt.color
      return el(
        'li',
        { class: won ? 'won' : 'lost', attrs: { 'data-client': attempt.clientId } },
        dot,
        el('strong', { text: attempt.name }),
        el('span', { class: 'verdict', text: won ? 'wins' : 'overwritten' }),
        el('span', { class: 'detail', text: `“${attempt.value}” · sent ${clockTime(attempt.sentAt)}` }),
      )
    })
    this.panel.replaceChildren(
      el('p', { class: 'small muted', text: `Round ${round.round} · field “${TITLE_FIELD}”` }),
      el('ul', { class: 'attempts' }, ...rows),
      ...explain(attempts, winner).map((text) => el('p', { class: 'why small', text })),
    )
  }
}

function explain(attempts: readonly Attempt[], winner: Attempt | undefined): string[] {
  if (!winner) return ['The title was edited again since this round.']
  if (attempts.length === 1) {
    return [`Only ${winner.name} wrote: open a second window and start another round to see a conflict.`]
  }
  const losers = attempts.filter((attempt) => attempt !== winner).map((attempt) => attempt.name)
  const sent = attempts.map((attempt) => attempt.sentAt)
  const spread = Math.max(...sent) - Math.min(...sent)
  return [
    `Why ${winner.name}: the server stamps each write as it arrives (hybrid logical clock time, ` +
      `then node id), and a field keeps the write with the highest stamp. Stamp order: ` +
      `${losers.join(', ')} < ${winner.name}, whose write arrived last.`,
    `They were sent within ${spread} ms of each other, by each window's own clock; what counts ` +
      `is the order they reached the server. Every window adopts the server's echo, so all show ` +
      `${winner.name}'s title; the other write is overwritten, not merged.`,
  ]
}

function roundOf(value: unknown): Round | undefined {
  const record = asRecord(value)
  if (!record) return undefined
  const { round, at, by } = record
  if (typeof round !== 'number' || typeof at !== 'number' || typeof by !== 'string') return undefined
  return { round, at, by }
}

function attemptsOf(fields: Readonly<Record<string, unknown>>, round: number): Attempt[] {
  const attempts: Attempt[] = []
  for (const [field, value] of Object.entries(fields)) {
    if (!field.startsWith(ATTEMPT_PREFIX)) continue
    const record = asRecord(value)
    if (!record || record.round !== round) continue
    const { name, color, sentAt } = record
    if (typeof name !== 'string' || typeof color !== 'string' || typeof sentAt !== 'number') continue
    const attemptValue = record.value
    if (typeof attemptValue !== 'string') continue
    attempts.push({
      clientId: field.slice(ATTEMPT_PREFIX.length),
      round,
      name,
      color,
      value: attemptValue,
      sentAt,
    })
  }
  return attempts.sort((a, b) => a.sentAt - b.sentAt || (a.clientId < b.clientId ? -1 : 1))
}

/**
 * Presence (awareness): each window publishes its name, colour, the task or title it has focused
 * and its pointer over the board. Others show it as avatars, a list, chips on tasks and cursors.
 */
import type { DocumentView } from 'synckit-engine/client'
import { chip, type Editor } from './board.js'
import { asRecord, el } from './dom.js'

/** A type alias, not an interface: it must fit the client's `JsonObject`. */
export type PresenceState = {
  name: string
  color: string
  /** A task id, `title`, or null. */
  focus: string | null
  /** Pointer over the board: x as a fraction of its width, y in pixels from its top. */
  cursor: number[] | null
}

export interface Person extends Editor {
  clientId: string
  self: boolean
  focus: string | null
  cursor: [number, number] | null
}

/** The people in a view, with states that do not have the demo's shape left out. */
export function peopleOf(view: DocumentView): Person[] {
  const people: Person[] = []
  for (const { clientId, state, self } of view.presence) {
    const { name, color, focus, cursor } = asRecord(state) ?? {}
    if (typeof name !== 'string' || typeof color !== 'string' || !/^#[0-9a-f]{6}$/i.test(color)) continue
    const point =
      Array.isArray(cursor) && cursor.length === 2 && cursor.every(Number.isFinite)
        ? ([cursor[0], cursor[1]] as [number, number])
        : null
    people.push({
      clientId,
      self,
      name,
      color,
      focus: typeof focus === 'string' ? focus : null,
      cursor: point,
    })
  }
  return people
}

/** Who else has each task (or the title) focused. */
export function editorsOf(people: readonly Person[]): Map<string, Person[]> {
  const editors = new Map<string, Person[]>()
  for (const person of people) {
    if (person.self || person.focus === null) continue
    editors.set(person.focus, [...(editors.get(person.focus) ?? []), person])
  }
  return editors
}

export function renderAvatars(list: HTMLElement, people: readonly Person[]): void {
  list.replaceChildren(
    ...people.map((person) => {
      const avatar = el('li', { class: 'avatar', text: person.name.slice(0, 1), title: person.name })
      avatar.style.background = person.color
      if (person.self) avatar.classList.add('self')
      return avatar
    }),
  )
}

export function renderPeople(list: HTMLElement, people: readonly Person[], connected: boolean): void {
  const rows = people.map((person) => {
    const where =
      person.focus === null ? '' : person.focus === 'title' ? 'editing the title' : 'editing a task'
    return el(
      'li',
      { attrs: { 'data-client': person.clientId } },
      chip(person),
      el('span', { class: 'muted small', text: person.self ? `you${where ? `, ${where}` : ''}` : where }),
    )
  })
  if (!connected) rows.push(el('li', { class: 'muted small', text: 'Offline: others are not shown.' }))
  else if (people.length < 2) rows.push(el('li', { class: 'muted small', text: 'Nobody else yet.' }))
  list.replaceChildren(...rows)
}

/** Other people's pointers over the board, kept as elements so they glide between updates. */
export class Cursors {
  private readonly shown = new Map<string, HTMLElement>()

  constructor(private readonly layer: HTMLElement) {}

  render(people: readonly Person[]): void {
    const width = this.layer.clientWidth
    const present = new Set<string>()
    for (const person of people) {
      if (person.self || !person.cursor) continue
      present.add(person.clientId)
      let cursor = this.shown.get(person.clientId)
      if (!cursor) {
        cursor = el('div', { class: 'cursor' }, el('span', { class: 'cursor-name' }))
        this.layer.append(cursor)
        this.shown.set(person.clientId, cursor)
      }
      const label = cursor.firstElementChild as HTMLElement
      label.textContent = person.name
      label.style.background = person.color
      cursor.style.color = person.color
      cursor.style.transform = `translate(${Math.round(person.cursor[0] * width)}px, ${Math.round(person.cursor[1])}px)`
    }
    for (const [clientId, cursor] of this.shown) {
      if (present.has(clientId)) continue
      cursor.remove()
      this.shown.delete(clientId)
    }
  }
}

/**
 * The board: a title and a task list stored as one field per property (`task:<id>:text`,
 * `task:<id>:done`), so two people editing different properties of one task both keep theirs,
 * and for one property the last writer wins.
 */
import { el } from './dom.js'

export const TITLE_FIELD = 'title'

export interface Task {
  id: string
  text: string
  done: boolean
}

const TASK_FIELD = /^task:([a-z0-9]{1,32}):(text|done)$/

export const taskField = (id: string, property: 'text' | 'done'): string => `task:${id}:${property}`

/** The tasks in the fields, oldest first. A task exists while its text does. */
export function tasksOf(fields: Readonly<Record<string, unknown>>): Task[] {
  const texts = new Map<string, string>()
  const done = new Set<string>()
  for (const [field, value] of Object.entries(fields)) {
    const match = TASK_FIELD.exec(field)
    if (!match?.[1]) continue
    if (match[2] === 'text' && typeof value === 'string') texts.set(match[1], value)
    if (match[2] === 'done' && value === true) done.add(match[1])
  }
  return [...texts]
    .map(([id, text]) => ({ id, text, done: done.has(id) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** Time first, so ids sort in creation order; a random tail, so two windows never collide. */
export function newTaskId(): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0
  return Date.now().toString(36).padStart(9, '0') + random.toString(36).padStart(7, '0')
}

export interface Editor {
  name: string
  color: string
}

export interface TaskActions {
  rename(id: string, text: string): void
  toggle(id: string, done: boolean): void
  remove(id: string): void
  focus(id: string | null): void
}

export interface TaskListState {
  /** Unacknowledged writes per task (queued while offline). */
  pending: ReadonlyMap<string, number>
  connected: boolean
  /** Who else has each task focused. */
  editors: ReadonlyMap<string, readonly Editor[]>
}

interface Row {
  item: HTMLLIElement
  checkbox: HTMLInputElement
  input: HTMLInputElement
  badge: HTMLElement
  editors: HTMLElement
  /** Typed and not yet written: remote values must not overwrite it. */
  dirty: boolean
  timer: ReturnType<typeof setTimeout> | undefined
}

const TYPING_DEBOUNCE_MS = 350

/** A name on its colour. Colours go through CSSOM: the CSP refuses `style` attributes. */
export function chip(editor: Editor): HTMLElement {
  const span = el('span', { class: 'chip', text: editor.name })
  span.style.background = editor.color
  return span
}

/** Renders tasks into the list, updating rows in place so focus and caret survive remote edits. */
export class TaskList {
  private readonly rows = new Map<string, Row>()

  constructor(
    private readonly list: HTMLUListElement,
    private readonly empty: HTMLElement,
    private readonly actions: TaskActions,
  ) {}

  render(tasks: readonly Task[], state: TaskListState): void {
    const seen = new Set<string>()
    for (const [index, task] of tasks.entries()) {
      seen.add(task.id)
      const row = this.rows.get(task.id) ?? this.createRow(task.id)
      this.updateRow(row, task, state)
      if (this.list.children[index] !== row.item)
        this.list.insertBefore(row.item, this.list.children[index] ?? null)
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue
      clearTimeout(row.timer)
      row.item.remove()
      this.rows.delete(id)
    }
    this.empty.hidden = tasks.length > 0
  }

  private updateRow(row: Row, task: Task, state: TaskListState): void {
    row.item.classList.toggle('done', task.done)
    row.checkbox.checked = task.done
    row.checkbox.setAttribute('aria-label', `Done: ${task.text}`)
    if (!row.dirty && row.input.value !== task.text) row.input.value = task.text
    const pending = state.pending.get(task.id) ?? 0
    row.badge.hidden = pending === 0
    row.badge.textContent = state.connected ? 'sending' : 'queued'
    row.badge.classList.toggle('queued', !state.connected)
    const editors = state.editors.get(task.id) ?? []
    row.editors.replaceChildren(...editors.map((editor) => chip(editor)))
    row.item.style.borderLeftColor = editors[0]?.color ?? ''
    row.item.classList.toggle('edited', editors.length > 0)
  }

  private createRow(id: string): Row {
    const checkbox = el('input', { attrs: { type: 'checkbox' } })
    const input = el('input', { class: 'task-text', attrs: { maxlength: '200', 'aria-label': 'Task' } })
    const remove = el('button', {
      class: 'icon',
      text: '×',
      attrs: { type: 'button', 'aria-label': 'Delete task' },
    })
    const badge = el('span', { class: 'badge' })
    const editors = el('span', { class: 'editors' })
    const item = el(
      'li',
      { class: 'task', attrs: { 'data-task': id } },
      checkbox,
      input,
      editors,
      badge,
      remove,
    )
    const row: Row = { item, checkbox, input, badge, editors, dirty: false, timer: undefined }
    const commit = () => {
      clearTimeout(row.timer)
      row.timer = undefined
      if (!row.dirty) return
      row.dirty = false
      const text = input.value.trim()
      if (text) this.actions.rename(id, text)
    }
    checkbox.addEventListener('change', () => this.actions.toggle(id, checkbox.checked))
    input.addEventListener('input', () => {
      row.dirty = true
      clearTimeout(row.timer)
      row.timer = setTimeout(commit, TYPING_DEBOUNCE_MS)
    })
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') input.blur()
    })
    input.addEventListener('blur', commit)
    item.addEventListener('focusin', () => this.actions.focus(id))
    item.addEventListener('focusout', (event) => {
      if (!item.contains(event.relatedTarget as Node | null)) this.actions.focus(null)
    })
    remove.addEventListener('click', () => this.actions.remove(id))
    this.rows.set(id, row)
    return row
  }
}

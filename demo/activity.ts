/** The activity feed: what this window did, and what changed because of others. */
import type { Task } from './board.js'
import { clockTime, el } from './dom.js'

export type ActivityKind = 'local' | 'remote' | 'info' | 'error'

const LIMIT = 50
/** Repeated entries with one key (someone typing) update the last one within this window. */
const COALESCE_MS = 4000

export class Activity {
  private last: { key: string; at: number; item: HTMLLIElement } | undefined

  constructor(private readonly list: HTMLOListElement) {}

  add(text: string, kind: ActivityKind = 'info', key?: string): void {
    const now = Date.now()
    const last = this.last
    if (key !== undefined && last?.key === key && now - last.at < COALESCE_MS && last.item.isConnected) {
      last.item.lastChild!.textContent = text
      last.at = now
      return
    }
    const item = el(
      'li',
      { class: kind },
      el('time', { text: clockTime(now).slice(0, 8) }),
      el('span', { text }),
    )
    this.list.prepend(item)
    while (this.list.children.length > LIMIT) this.list.lastElementChild?.remove()
    this.last = key === undefined ? undefined : { key, at: now, item }
  }
}

export interface Change {
  text: string
  key: string
  /** Fields behind the change, to tell own edits from others'. */
  fields: string[]
}

const quote = (text: string): string => `“${text.length > 40 ? `${text.slice(0, 39)}…` : text}”`

/** What changed between two renders of the board, in words. */
export function describeChanges(
  before: { title: string; tasks: readonly Task[] },
  after: { title: string; tasks: readonly Task[] },
): Change[] {
  const changes: Change[] = []
  if (before.title !== after.title) {
    changes.push({
      text: `Title is now ${quote(after.title || 'Untitled')}`,
      key: 'title',
      fields: ['title'],
    })
  }
  const old = new Map(before.tasks.map((task) => [task.id, task]))
  for (const task of after.tasks) {
    const was = old.get(task.id)
    old.delete(task.id)
    const fields = [`task:${task.id}:text`, `task:${task.id}:done`]
    if (!was) changes.push({ text: `Added ${quote(task.text)}`, key: `add:${task.id}`, fields })
    else {
      if (was.text !== task.text) {
        changes.push({
          text: `Renamed to ${quote(task.text)}`,
          key: `text:${task.id}`,
          fields: [fields[0] ?? ''],
        })
      }
      if (was.done !== task.done) {
        const text = `${task.done ? 'Completed' : 'Reopened'} ${quote(task.text)}`
        changes.push({ text, key: `done:${task.id}`, fields: [fields[1] ?? ''] })
      }
    }
  }
  for (const task of old.values()) {
    changes.push({
      text: `Deleted ${quote(task.text)}`,
      key: `del:${task.id}`,
      fields: [`task:${task.id}:text`],
    })
  }
  return changes
}

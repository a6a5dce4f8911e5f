/**
 * The synckit-engine demo: a shared board over the public client API only (`synckit-engine/client`).
 * `client.subscribe(documentId, render)` delivers the fields, presence and pending writes;
 * everything else here is plain DOM.
 */
import { createSyncClient, type DocumentView, type JsonValue } from 'synckit-engine/client'
import { Activity, describeChanges } from './activity.js'
import { newTaskId, type Task, TaskList, TITLE_FIELD, taskField, tasksOf } from './board.js'
import { ConflictDemo } from './conflict.js'
import { byId } from './dom.js'
import { avoidClash, type Identity, loadIdentity, saveIdentity } from './identity.js'
import { Cursors, editorsOf, type PresenceState, peopleOf, renderAvatars, renderPeople } from './presence.js'
import './style.css'

const room =
  new URLSearchParams(location.search)
    .get('room')
    ?.replace(/[^A-Za-z0-9_-]/g, '')
    .slice(0, 64) || 'board'
const documentId = `demo:${room}`
const client = createSyncClient({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  reconnect: { initialDelayMs: 300, maxDelayMs: 5000 },
})

const activity = new Activity(byId<HTMLOListElement>('activity'))
const titleInput = byId<HTMLInputElement>('title')
const connection = byId<HTMLButtonElement>('connection')
const cursors = new Cursors(byId('cursors'))
const board = byId('items').parentElement as HTMLElement
let me: Identity = loadIdentity()
let wantOnline = true
let previous: { title: string; tasks: Task[] } | undefined
/** Fields this window wrote since the last render: their changes are logged as own, not others'. */
const ownFields = new Set<string>()
/** Unacknowledged writes per task, for the "queued" badges. */
const pendingByTask = new Map<string, number>()

// ------------------------------------------------------------------ writes

/** Write fields (`undefined` deletes one); `task` names the task for its badge. */
function write(fields: Record<string, JsonValue | undefined>, task?: string): Promise<void> {
  const sets: Record<string, JsonValue> = {}
  const writes: Array<Promise<void>> = []
  for (const [field, value] of Object.entries(fields)) {
    ownFields.add(field)
    if (value === undefined) writes.push(client.delete(documentId, field))
    else sets[field] = value
  }
  if (Object.keys(sets).length > 0) writes.push(client.setMany(documentId, sets))
  const done = Promise.all(writes).then(() => undefined)
  if (task !== undefined) {
    pendingByTask.set(task, (pendingByTask.get(task) ?? 0) + 1)
    const settle = () => {
      const left = (pendingByTask.get(task) ?? 1) - 1
      if (left > 0) pendingByTask.set(task, left)
      else pendingByTask.delete(task)
      render(live.current)
    }
    done.then(settle, settle)
  }
  done.catch((error: Error) => activity.add(`Write failed: ${error.message}`, 'error'))
  return done
}

const tasks = new TaskList(byId<HTMLUListElement>('items'), byId('empty'), {
  rename: (id, text) => void write({ [taskField(id, 'text')]: text }, id),
  toggle: (id, done) => void write({ [taskField(id, 'done')]: done }, id),
  remove: (id) => void write({ [taskField(id, 'text')]: undefined, [taskField(id, 'done')]: undefined }, id),
  focus: (id) => publish({ focus: id }),
})

const conflict = new ConflictDemo(
  {
    clientId: client.clientId,
    me: () => me,
    write: (fields) => write(fields),
    log: (text) => activity.add(text, 'local'),
  },
  byId('conflict-result'),
)

// ------------------------------------------------------------------ presence

let presence: PresenceState = { name: me.name, color: me.color, focus: null, cursor: null }
let cursorTimer: ReturnType<typeof setTimeout> | undefined
let cursorDue: number[] | null | undefined

function publish(change: Partial<PresenceState>): void {
  presence = { ...presence, ...change, name: me.name, color: me.color }
  live.setPresence(presence)
}

/** Pointer moves are sent at most every 120 ms: the server limits messages per connection. */
function publishCursor(cursor: number[] | null): void {
  cursorDue = cursor
  if (cursorTimer) return
  cursorTimer = setTimeout(() => {
    cursorTimer = undefined
    if (cursorDue !== undefined) publish({ cursor: cursorDue })
    cursorDue = undefined
  }, 120)
}

board.addEventListener('pointermove', (event) => {
  const box = board.getBoundingClientRect()
  publishCursor([
    Number(((event.clientX - box.left) / box.width).toFixed(4)),
    Math.round(event.clientY - box.top),
  ])
})
board.addEventListener('pointerleave', () => publishCursor(null))

// ------------------------------------------------------------------ rendering

const live = client.subscribe(documentId, render)

function render(view: DocumentView): void {
  const title = typeof view.fields[TITLE_FIELD] === 'string' ? (view.fields[TITLE_FIELD] as string) : ''
  const current = { title, tasks: tasksOf(view.fields) }
  const people = peopleOf(view)
  const editors = editorsOf(people)

  if (document.activeElement !== titleInput && titleInput.value !== title) titleInput.value = title
  titleInput.classList.toggle('edited', editors.has('title'))
  titleInput.style.borderColor = editors.get('title')?.[0]?.color ?? ''
  tasks.render(current.tasks, { pending: pendingByTask, connected: view.connected, editors })
  renderAvatars(byId('avatars'), people)
  renderPeople(byId('people'), people, view.connected)
  cursors.render(people)
  renderConnection(view)
  conflict.update(view.fields, view.synced, view.connected)
  logChanges(view, current)

  const others = people.filter((person) => !person.self)
  const next = avoidClash(me, client.clientId, others)
  if (next !== me) {
    me = next
    byId<HTMLInputElement>('my-name').value = me.name
    publish({})
  }
}

function renderConnection(view: DocumentView): void {
  const state = view.connected ? 'online' : wantOnline ? 'connecting' : 'offline'
  connection.dataset.state = state
  connection.setAttribute('aria-checked', String(view.connected))
  byId('connection-label').textContent =
    state === 'online' ? 'Online' : state === 'connecting' ? 'Connecting…' : 'Offline'
  byId('offline-banner').hidden = wantOnline
  byId('queued-count').textContent = `${view.pendingWrites} edit${view.pendingWrites === 1 ? '' : 's'}`
  const conflictButton = byId<HTMLButtonElement>('conflict')
  conflictButton.disabled = !view.connected
  conflictButton.title = view.connected ? '' : 'Go online first'
}

let announcedSync = false
let awaitingAcks = false

function logChanges(view: DocumentView, current: { title: string; tasks: Task[] }): void {
  if (!view.synced) return
  if (!announcedSync) {
    announcedSync = true
    activity.add(`Synced room “${room}”: ${current.tasks.length} task(s)`, 'info')
  } else if (previous) {
    for (const change of describeChanges(previous, current)) {
      const own = change.fields.some((field) => ownFields.has(field))
      const text = own ? `You: ${change.text}${view.connected ? '' : ' (queued)'}` : change.text
      activity.add(text, own ? 'local' : 'remote', change.key)
    }
  }
  ownFields.clear()
  previous = current
  if (awaitingAcks && view.connected && view.pendingWrites === 0) {
    awaitingAcks = false
    activity.add('Every queued edit is acknowledged: all windows agree', 'info')
  }
}

// ------------------------------------------------------------------ controls

connection.addEventListener('click', () => {
  wantOnline = !wantOnline
  if (wantOnline) {
    awaitingAcks = live.current.pendingWrites > 0
    activity.add(`Going online: sending ${live.current.pendingWrites} queued write(s)`, 'info')
    connect()
  } else {
    client.disconnect()
    activity.add('Offline: edits are queued on this page', 'info')
  }
  render(live.current)
})

function connect(): void {
  client.connect().then(
    () => publish({}),
    (error: Error) => {
      if (!wantOnline) return
      activity.add(`Cannot reach the server (${error.message}); retrying`, 'error')
      setTimeout(connect, 2000)
    },
  )
}

byId<HTMLFormElement>('add-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = byId<HTMLInputElement>('add-text')
  const text = input.value.trim()
  if (!text) return
  const id = newTaskId()
  void write({ [taskField(id, 'text')]: text, [taskField(id, 'done')]: false }, id)
  input.value = ''
})

titleInput.addEventListener('change', () => void write({ [TITLE_FIELD]: titleInput.value.trim() }))
titleInput.addEventListener('keydown', (event) => event.key === 'Enter' && titleInput.blur())
titleInput.addEventListener('focus', () => publish({ focus: 'title' }))
titleInput.addEventListener('blur', () => publish({ focus: null }))

byId<HTMLButtonElement>('conflict').addEventListener('click', () => conflict.start(live.current.fields))

const nameInput = byId<HTMLInputElement>('my-name')
nameInput.value = me.name
nameInput.addEventListener('change', () => {
  const name = nameInput.value.trim().slice(0, 24)
  if (!name) return
  me = saveIdentity({ ...me, name, chosen: true })
  publish({})
})

byId('open-window').addEventListener('click', () => {
  window.open(location.href, '_blank', 'popup,width=1100,height=800')
})

client.on('error', (error) => activity.add(error.message, 'error'))
byId('room').textContent = room
publish({})
connect()

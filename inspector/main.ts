import './style.css'
import { byId } from '../demo/dom.js'
import type { InspectedDocument, InspectorStats } from '../src/server/inspector/types.js'
import { AccessRefused, read, token } from './api.js'
import { renderDocument } from './detail.js'
import { createDocumentList } from './documents.js'
import { createLive } from './live.js'

/**
 * The inspector page (served at `/inspector` when `http.inspector` is on). Everything it shows
 * comes from `/inspector/api`, which answers admins only: the page itself holds no data.
 */

const DETAIL_REFRESH_TICKS = 2

const app = byId('app')
const signIn = byId('sign-in')
const detail = byId('detail')
const status = byId('status')
const toast = byId('toast')
let selected: string | undefined = new URL(location.href).searchParams.get('doc') ?? undefined
let ticks = 0
let signedIn = false

function setStatus(state: 'connecting' | 'live' | 'error', label: string): void {
  status.dataset.state = state
  byId('status-label').textContent = label
}

let toastTimer: ReturnType<typeof setTimeout> | undefined
function notify(message: string, ok = true): void {
  toast.textContent = message
  toast.dataset.kind = ok ? 'ok' : 'warn'
  toast.hidden = false
  if (toastTimer !== undefined) clearTimeout(toastTimer)
  toastTimer = setTimeout(() => {
    toast.hidden = true
  }, 3500)
}

function showSignIn(reason?: number): void {
  signedIn = false
  live.stop()
  app.hidden = true
  byId('server-info').hidden = true
  signIn.hidden = false
  byId('sign-out').hidden = token.get() === null
  // Nothing of what an earlier token could see stays on the page.
  detail.replaceChildren()
  byId('document-list').replaceChildren()
  byId('sign-in-reason').textContent =
    reason === 403
      ? 'This token is not an admin’s: the server refused it (403). The inspector needs isAdmin.'
      : reason === 401 && token.get() !== null
        ? 'The server did not accept this token (401). Paste an admin token or API key.'
        : 'The inspector shows every document and can disconnect anyone: it needs an admin token or API key.'
  signIn.dataset.refused = reason === undefined ? '' : String(reason)
  setStatus('error', reason === 403 ? 'Refused' : 'Signed out')
  byId<HTMLInputElement>('token').focus()
}

function onError(error: unknown): void {
  if (error instanceof AccessRefused) return showSignIn(error.status)
  if (error instanceof DOMException && error.name === 'AbortError') return
  setStatus('error', 'Server unreachable')
}

function onStats(stats: InspectorStats): void {
  if (!signedIn) enter()
  setStatus('live', 'Live')
  byId('server-info').hidden = false
  byId('node-id').textContent = stats.nodeId
  byId('uptime').textContent = uptime(stats.uptimeSeconds)
  if (selected !== undefined && ++ticks % DETAIL_REFRESH_TICKS === 0) void showDocument(selected, false)
}

function uptime(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`
}

const live = createLive(byId, onStats, onError)
const documents = createDocumentList(
  {
    search: byId<HTMLInputElement>('search'),
    list: byId<HTMLUListElement>('document-list'),
    note: byId('list-note'),
    more: byId<HTMLButtonElement>('more'),
  },
  (id) => void showDocument(id, true),
  onError,
)

async function showDocument(documentId: string, chosen: boolean): Promise<void> {
  selected = documentId
  documents.select(documentId)
  if (chosen) {
    const url = new URL(location.href)
    url.searchParams.set('doc', documentId)
    history.replaceState(null, '', url)
  }
  let doc: InspectedDocument
  try {
    doc = await read<InspectedDocument>('document', { id: documentId })
  } catch (error) {
    if (error instanceof AccessRefused) return onError(error)
    if (selected === documentId) detail.replaceChildren(notice(`${documentId}: ${(error as Error).message}`))
    return
  }
  if (selected !== documentId || !signedIn) return
  renderDocument(detail, doc, {
    done(message, ok) {
      notify(message, ok)
      void documents.refresh()
      void showDocument(documentId, false)
    },
    onError,
  })
}

function notice(text: string): HTMLElement {
  const element = document.createElement('p')
  element.className = 'muted empty'
  element.textContent = text
  return element
}

/** The first answer that got through: the data may be shown. */
function enter(): void {
  signedIn = true
  signIn.hidden = true
  app.hidden = false
  byId('sign-out').hidden = token.get() === null
  void documents.refresh()
  if (selected !== undefined) void showDocument(selected, false)
}

byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = byId<HTMLInputElement>('token')
  const value = input.value.trim()
  if (!value) return
  token.set(value)
  input.value = ''
  setStatus('connecting', 'Connecting…')
  live.start()
})

byId('sign-out').addEventListener('click', () => {
  token.clear()
  showSignIn()
})

// Anonymous mode needs no token: the first stats reading decides whether to ask for one.
live.start()

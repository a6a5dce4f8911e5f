import { clockTime, el } from '../demo/dom.js'
import type { InspectedDocument } from '../src/server/inspector/types.js'
import { act } from './api.js'

/** One document: fields with their stamps, clock, subscribers, presence, text states, and actions. */

const BLOCKERS: Record<string, string> = {
  'not-loaded': 'not in memory',
  subscribed: 'connections are subscribed: disconnect them first',
  unflushed: 'writes are not durable yet: try again in a moment',
}

export interface DetailActions {
  /** After an action: show its outcome, then refresh what it changed. */
  done(message: string, ok: boolean): void
  onError(error: unknown): void
}

function section(title: string, ...content: Node[]): HTMLElement {
  return el('section', { class: 'part' }, el('h3', { text: title }), ...content)
}

function json(value: unknown): string {
  const text = JSON.stringify(value)
  return text.length > 160 ? `${text.slice(0, 157)}…` : text
}

function button(label: string, kind: string, run: () => Promise<void>): HTMLButtonElement {
  const element = el('button', { class: kind, text: label, attrs: { type: 'button' } })
  element.addEventListener('click', () => {
    element.disabled = true
    run().finally(() => {
      element.disabled = false
    })
  })
  return element
}

async function perform(
  actions: DetailActions,
  path: string,
  body: Record<string, string>,
  success: string,
): Promise<void> {
  try {
    const result = await act(path, body)
    const reason = typeof result.body.reason === 'string' ? BLOCKERS[result.body.reason] : undefined
    const error = typeof result.body.error === 'string' ? result.body.error : undefined
    actions.done(result.ok ? success : `Not done: ${reason ?? error ?? 'refused'}`, result.ok)
  } catch (error) {
    actions.onError(error)
  }
}

export function renderDocument(root: HTMLElement, doc: InspectedDocument, actions: DetailActions): void {
  const evict = button('Evict from memory', 'ghost', () =>
    perform(actions, 'evict', { documentId: doc.id }, `Evicted ${doc.id} from memory`),
  )
  evict.hidden = !doc.loaded
  if (doc.evictionBlocker) {
    evict.disabled = true
    evict.title = `Cannot evict now: ${BLOCKERS[doc.evictionBlocker]}`
  }
  const header = el(
    'header',
    { class: 'detail-header' },
    el(
      'div',
      {},
      el('h2', { text: 'Document' }),
      el('div', { class: 'detail-id', text: doc.id, attrs: { 'data-document-id': doc.id } }),
    ),
    el(
      'div',
      { class: 'detail-actions' },
      el('span', {
        class: `badge ${doc.loaded ? 'loaded' : 'stored'}`,
        text: doc.loaded ? 'in memory' : 'in the store',
      }),
      evict,
    ),
  )

  const rows = doc.fields.map((field) =>
    el(
      'tr',
      { class: field.deleted ? 'tombstone' : '', attrs: { 'data-field': field.field } },
      el('td', { class: 'field-name', text: field.field }),
      el('td', { class: 'field-value', text: field.deleted ? '—' : json(field.value) }),
      el('td', {
        class: 'field-time',
        text: clockTime(field.updatedAt),
        title: new Date(field.updatedAt).toISOString(),
      }),
      el('td', { class: 'field-node', text: field.nodeId }),
      el('td', {}, field.deleted ? el('span', { class: 'badge tomb', text: 'tombstone' }) : ''),
    ),
  )
  const fields = el(
    'table',
    { class: 'fields' },
    el(
      'thead',
      {},
      el('tr', {}, ...['Field', 'Value', 'Stamp', 'Node', ''].map((name) => el('th', { text: name }))),
    ),
    el('tbody', {}, ...rows),
  )

  const clock = el(
    'ul',
    { class: 'chips' },
    ...Object.entries(doc.clock).map(([node, seq]) =>
      el('li', { class: 'chip' }, el('span', { class: 'muted', text: node }), ` ${seq}`),
    ),
  )

  const subscribers = doc.subscribers.length
    ? el(
        'table',
        { class: 'subscribers' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['User', 'Connection', 'Format', 'Dialect', ''].map((name) => el('th', { text: name })),
          ),
        ),
        el(
          'tbody',
          {},
          ...doc.subscribers.map((subscriber) => {
            const user = subscriber.userId
            const controls = el(
              'td',
              { class: 'row-actions' },
              button('Disconnect', 'ghost small', () =>
                perform(
                  actions,
                  'disconnect',
                  { connectionId: subscriber.connectionId },
                  `Disconnected ${subscriber.connectionId}`,
                ),
              ),
            )
            if (user !== undefined && user !== 'anonymous') {
              controls.append(
                button('Revoke user', 'danger small', () =>
                  perform(
                    actions,
                    'revoke',
                    { userId: user },
                    `Revoked ${user}: their connections are closed`,
                  ),
                ),
              )
            }
            return el(
              'tr',
              { attrs: { 'data-connection': subscriber.connectionId } },
              el('td', { text: user ?? '(authenticating)' }),
              el('td', { class: 'mono', text: subscriber.connectionId }),
              el('td', { text: subscriber.format ?? '—' }),
              el('td', { text: subscriber.dialect ?? '—' }),
              controls,
            )
          }),
        ),
      )
    : el('p', {
        class: 'muted small',
        text: doc.loaded ? 'Nobody is subscribed.' : 'Not in memory: nobody is subscribed.',
      })

  const presence = doc.presence.length
    ? el(
        'ul',
        { class: 'plain' },
        ...doc.presence.map((entry) =>
          el(
            'li',
            {},
            el('span', { class: 'mono', text: entry.clientId }),
            entry.userId ? el('span', { class: 'muted', text: ` · ${entry.userId}` }) : '',
            el('div', { class: 'muted small mono', text: json(entry.state) }),
          ),
        ),
      )
    : el('p', { class: 'muted small', text: 'Nobody is present.' })

  const textStates = doc.textStates.length
    ? el(
        'ul',
        { class: 'plain' },
        ...doc.textStates.map((op) => el('li', { class: 'muted small mono', text: json(op) })),
      )
    : el('p', { class: 'muted small', text: 'No text states kept.' })

  root.replaceChildren(
    header,
    section(
      `Fields (${doc.fields.length})`,
      doc.fields.length ? fields : el('p', { class: 'muted small', text: 'No fields.' }),
    ),
    el(
      'div',
      { class: 'parts' },
      section('Vector clock', clock),
      section(`Subscribers (${doc.subscribers.length})`, subscribers),
      section(`Presence (${doc.presence.length})`, presence),
      section(`Text states (${doc.textStates.length})`, textStates),
    ),
  )
}

/**
 * One listener per server event: docs/events.md shows each of these functions, and
 * test/integration/events-doc.test.ts makes the server emit every event and checks what each
 * listener wrote. `log` stands for your logger, metrics or webhook.
 */
// In an application: `from 'synckit-engine'`.
import type { SyncServer } from '../src/server/index.js'

/** Where the examples write. */
export type Log = (line: string) => void

export function onConnection(sync: SyncServer, log: Log): void {
  sync.on('connection', ({ connectionId, ip, userId }) => {
    log(`${connectionId} connected from ${ip} as ${userId ?? 'nobody yet'}`)
  })
}

export function onConnectionRejected(sync: SyncServer, log: Log): void {
  sync.on('connection-rejected', ({ ip, status, code, reason }) => {
    log(`refused ${ip}: ${status ?? code} ${reason}`)
  })
}

export function onDisconnect(sync: SyncServer, log: Log): void {
  sync.on('disconnect', ({ connectionId, code, reason }) => {
    log(`${connectionId} left${code ? ` (${code} ${reason})` : ''}`)
  })
}

export function onAuthenticated(sync: SyncServer, log: Log): void {
  sync.on('authenticated', ({ connectionId, principal }) => {
    log(`${connectionId} is ${principal.userId} (via ${principal.via ?? 'door'})`)
  })
}

export function onSubscribed(sync: SyncServer, log: Log): void {
  sync.on('subscribed', ({ connectionId, documentId }) => log(`${connectionId} follows ${documentId}`))
}

export function onUnsubscribed(sync: SyncServer, log: Log): void {
  sync.on('unsubscribed', ({ connectionId, documentId }) => log(`${connectionId} left ${documentId}`))
}

export function onDocumentChange(sync: SyncServer, log: Log): void {
  sync.on('document-change', ({ documentId, actor, fields }) => {
    const who = actor.kind === 'connection' ? actor.userId : actor.kind
    for (const { field, value, deleted } of fields) {
      log(`${who} ${deleted ? 'deleted' : `set ${JSON.stringify(value)} in`} ${documentId}.${field}`)
    }
  })
}

export function onDocumentCommitted(sync: SyncServer, log: Log): void {
  sync.on('document-committed', ({ documentId, fields }) =>
    log(`stored ${fields.map((f) => f.field).join(', ')} of ${documentId}`),
  )
}

export function onDocumentDeleted(sync: SyncServer, log: Log): void {
  sync.on('document-deleted', ({ documentId, origin, actor }) =>
    log(`${documentId} deleted (${origin}) by ${actor ?? 'another node'}`),
  )
}

export function onDocumentLoaded(sync: SyncServer, log: Log): void {
  sync.on('document-loaded', ({ documentId, fields }) => log(`loaded ${documentId} (${fields} fields)`))
}

export function onDocumentEvicted(sync: SyncServer, log: Log): void {
  sync.on('document-evicted', ({ documentId }) => log(`evicted ${documentId} from memory`))
}

export function onAwarenessChange(sync: SyncServer, log: Log): void {
  sync.on('awareness-change', ({ documentId, clientId, state }) => {
    log(`${clientId} ${state ? `is ${JSON.stringify(state)}` : 'left'} on ${documentId}`)
  })
}

export function onProtocolError(sync: SyncServer, log: Log): void {
  sync.on('protocol-error', ({ connectionId, code, documentId }) => {
    log(`${connectionId} sent something wrong: ${code}${documentId ? ` on ${documentId}` : ''}`)
  })
}

export function onError(sync: SyncServer, log: Log): void {
  // Failures are logged by the server already (the `logger` option): listen to act on them.
  sync.on('error', (error, { operation, documentId }) => {
    log(`${operation} failed${documentId ? ` for ${documentId}` : ''}: ${error.message}`)
  })
}

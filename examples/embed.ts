/**
 * The README's embed snippet, runnable: cookie sessions at the door, validation with zod, a
 * document hook and an event. test/integration/embed-example.test.ts runs it over real sockets.
 */
import { z } from 'zod'
// In an application: `from 'synckit-engine'` and `from 'synckit-engine/ws'`.
import { attachWebSocketServer } from '../adapters/ws.js'
import type { DocumentChangeEvent, Principal } from '../src/index.js'
import { createSyncServer } from '../src/server/index.js'

/** The app's own parts the snippet uses. */
export interface TodoApp {
  sessions: { principalOf(sessionId: string | undefined): Principal | undefined }
  audit: { record(event: DocumentChangeEvent): void }
  port: number
}

export async function startTodoServer({ sessions, audit, port }: TodoApp) {
  const sync = createSyncServer({
    auth: { authenticate: ({ cookies }) => sessions.principalOf(cookies.sid) ?? null },
    allowedOrigins: ['https://app.example.com'],
    validate: { 'todo:*': { fields: { title: z.string().max(200), done: z.boolean() } } },
    onLoadDocument: ({ documentId }) =>
      documentId.startsWith('todo:') ? { title: '', done: false } : undefined,
  })
  sync.on('document-change', (change) => audit.record(change))
  const server = await attachWebSocketServer(sync, { port })
  return { sync, server }
}

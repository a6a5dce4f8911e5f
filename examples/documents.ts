/**
 * Documents from the server (`sync.documents`): docs/documents.md shows these functions, and
 * test/integration/documents-example.test.ts runs them against a server with a socket client.
 */
// In an application: `from 'synckit-engine'`.
import { DocumentApiError, type DocumentView, type SyncServer } from '../src/index.js'

/** A worker records a job's outcome: every open board sees it, and it is stored when this resolves. */
export async function finishJob(sync: SyncServer, jobId: string, result: string): Promise<DocumentView> {
  return sync.documents.update(
    `job:${jobId}`,
    { set: { status: 'done', result, finishedAt: new Date().toISOString() }, delete: ['progress'] },
    { actor: 'worker' },
  )
}

/** An admin script: every job document, a page at a time, with its fields. */
export async function listJobs(sync: SyncServer): Promise<Record<string, DocumentView['fields']>> {
  const jobs: Record<string, DocumentView['fields']> = {}
  let after: string | undefined
  do {
    const page = await sync.documents.list({ prefix: 'job:', limit: 100, ...(after ? { after } : {}) })
    for (const id of page.documents) {
      const job = await sync.documents.get(id)
      if (job) jobs[id] = job.fields
    }
    after = page.next
  } while (after)
  return jobs
}

/** A typed refusal: the `validate` option, a quota, the store, or bad input. */
export async function rename(sync: SyncServer, boardId: string, title: unknown): Promise<string> {
  try {
    await sync.documents.update(boardId, { set: { title: title as string } })
    return 'renamed'
  } catch (error) {
    if (error instanceof DocumentApiError && error.code === 'VALIDATION_FAILED') return 'refused'
    throw error
  }
}

/** Who is on a board (on every node of a cluster), then the board deleted for everyone. */
export async function closeBoard(sync: SyncServer, boardId: string): Promise<string[]> {
  const present = await sync.documents.presence(boardId)
  await sync.documents.delete(boardId, { actor: 'admin' }) // subscribers get DOCUMENT_DELETED
  return present.map((entry) => entry.clientId)
}

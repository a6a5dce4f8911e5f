/**
 * The conformance fixture for workerd: `synckit-engine/cloudflare` with every document in one
 * Durable Object (`routeToObject`), the suite's options, and test-only doors: `/__shutdown` (a
 * graceful stop, for the suite's last case), `/__attachments` (what the sockets keep for
 * hibernation) and `/__store/<name>` (DocumentStore calls on a real `DurableObjectSqlStore`, for
 * the store conformance suite). Bundled and run by
 * test/conformance/workerd.test.ts.
 */
import {
  createSyncWorker,
  type DurableObjectNamespace,
  DurableObjectSqlStore,
  type DurableObjectState,
  type DurableSyncOptions,
  forwardToSyncObject,
  routeByRoom,
  routeToObject,
  SyncDurableObject,
} from '../../adapters/cloudflare.js'
import type { DocumentStore } from '../../src/server/options.js'
import { CONFORMANCE_OPTIONS } from './fixture-options.js'

interface Env {
  SYNC: DurableObjectNamespace
  STORE: DurableObjectNamespace
}

const OBJECT = 'conformance'

export class ConformanceObject extends SyncDurableObject<Env> {
  readonly #ctx: DurableObjectState

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.#ctx = ctx
  }

  protected override options(): DurableSyncOptions {
    return CONFORMANCE_OPTIONS
  }

  override async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (pathname === '/__attachments') {
      return Response.json(this.#ctx.getWebSockets().map((socket) => socket.deserializeAttachment()))
    }
    if (pathname !== '/__shutdown') return super.fetch(request)
    await this.sync.close()
    return new Response(null, { status: 204 })
  }
}

/** `POST {op, args}` -> `{result}`: one DocumentStore call, JSON both ways (undefined as null). */
export class StoreProbe {
  readonly #store: DocumentStore

  constructor(ctx: DurableObjectState) {
    this.#store = new DurableObjectSqlStore(ctx.storage)
  }

  async fetch(request: Request): Promise<Response> {
    const { op, args } = (await request.json()) as { op: string; args: unknown[] }
    const store = this.#store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    const method = store[op]
    if (typeof method !== 'function') return new Response(`no such operation: ${op}`, { status: 400 })
    try {
      const result = await method.apply(this.#store, args)
      return Response.json({ result: result ?? null })
    } catch (error) {
      return Response.json({ error: error instanceof Error ? error.message : String(error) }, { status: 500 })
    }
  }
}

const worker = createSyncWorker<Env>({ binding: 'SYNC', route: routeToObject(OBJECT), handleHttp: true })
/** The same class, one object per room: `/rooms?room=team-1` serves `team-1:*`. */
const rooms = createSyncWorker<Env>({ binding: 'SYNC', route: routeByRoom(), path: '/rooms' })

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (pathname === '/__shutdown' || pathname === '/__attachments') {
      return forwardToSyncObject(request, env.SYNC, { object: OBJECT, documents: { all: true } })
    }
    if (pathname.startsWith('/__store/')) {
      const name = pathname.slice('/__store/'.length)
      return env.STORE.get(env.STORE.idFromName(name)).fetch(request)
    }
    return pathname === '/rooms' ? rooms.fetch(request, env) : worker.fetch(request, env)
  },
}

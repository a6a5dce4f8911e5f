/**
 * The Cloudflare example (docs/adapters.md, "Cloudflare Durable Objects"): one Durable Object per
 * document, clients authenticated by a JWT (HS256, `JWT_SECRET`) on the upgrade. Run in workerd by
 * test/conformance/cloudflare-example.test.ts with this folder's wrangler.toml.
 */
import {
  createSyncWorker,
  type DurableObjectNamespace,
  type DurableSyncOptions,
  routeByDocument,
  SyncDurableObject,
} from 'synckit-engine/cloudflare'

export interface Env {
  SYNC: DurableObjectNamespace
  /** `npx wrangler secret put JWT_SECRET`: at least 32 characters. */
  JWT_SECRET: string
}

/** One configuration for the Worker's upgrade check and for the objects. */
function auth(env: Env) {
  return { jwt: { secret: env.JWT_SECRET } }
}

/** Serves one document; its registers live in this object's SQLite storage. */
export class SyncObject extends SyncDurableObject<Env> {
  protected override options(env: Env): DurableSyncOptions {
    return { auth: auth(env) }
  }
}

// wss://<worker>/ws?doc=<documentId>&token=<jwt>; GET /health?doc=<documentId> for one object.
export default createSyncWorker<Env>({ binding: 'SYNC', route: routeByDocument(), auth, handleHttp: true })

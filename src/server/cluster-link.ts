import { ClusterBridge, type RemoteResolution } from '../cluster/bridge.js'
import type { Broker } from '../cluster/broker.js'
import type { Register } from '../crdt/types.js'
import type { OwnedAwarenessEntry, RevokeTarget } from '../engine/types.js'
import type { ClusterLink } from './effects.js'

/** What the bridge needs from the runtime: feeding the engine and reading what it holds. */
export interface ClusterHooks {
  resolve(resolution: RemoteResolution): void
  revoke(target: RevokeTarget): void
  deleted(documentId: string): void
  awarenessEntries(documentId: string): OwnedAwarenessEntry[]
  documentRegisters(documentId: string): Register[] | undefined
  onError(error: unknown): void
}

/** Cluster fan-out over a broker: the bridge turns engine effects into topics and back. */
export function linkBroker(
  broker: Broker,
  hooks: ClusterHooks,
): { bridge: ClusterBridge; link: ClusterLink } {
  const bridge = new ClusterBridge({ broker, ...hooks })
  const link: ClusterLink = {
    publish: (effect) => void bridge.publishRegisters(effect.documentId, effect.registers),
    publishAwareness: (effect) => void bridge.publishAwareness(effect.documentId, effect.entry),
    // Subscribed before the load; then the holders are asked for their present clients.
    subscribe: (documentId) =>
      bridge.subscribeDocument(documentId).then(() => void bridge.requestAwareness(documentId)),
    unsubscribe: (documentId) => void bridge.unsubscribeDocument(documentId),
    publishRevoke: (target) => void bridge.publishRevoke(target),
    publishDelete: (documentId) => void bridge.publishDelete(documentId),
  }
  return { bridge, link }
}

/**
 * Topic layout. Topics are relative: the Redis broker prepends its prefix (default `synckit:`), so
 * the channels are `synckit:doc:<documentId>`, `synckit:node:<nodeId>` and `synckit:control`.
 *
 * - `doc:<documentId>`: registers and awareness of one document, awareness queries, resync
 *   requests. Only nodes holding the document subscribe, so fan-out cost follows interest.
 * - `node:<nodeId>`: replies addressed to one node (awareness snapshots, resync answers).
 * - `control`: cluster-wide messages every node subscribes to (revocations).
 */
export function documentTopic(documentId: string): string {
  return `doc:${documentId}`
}

/** The topic of one node. */
export function nodeTopic(nodeId: string): string {
  return `node:${nodeId}`
}

/** The topic every node listens to (revocations, presence queries). */
export const CONTROL_TOPIC = 'control'

/**
 * `synckit-engine/cluster`: the broker seam for cluster fan-out (the Redis broker is
 * `synckit-engine/redis`): an in-process broker for tests and the message codec.
 *
 * @packageDocumentation
 */
export { ClusterBridge, type ClusterBridgeOptions, type RemoteResolution } from './bridge.js'
export {
  type Broker,
  BrokerClosedError,
  type BrokerHandler,
  BrokerUnavailableError,
  NoopBroker,
} from './broker.js'
export { MemoryBroker, MemoryBrokerHub, type MemoryBrokerHubOptions } from './memory-broker.js'
export {
  CLUSTER_MESSAGE_VERSION,
  type ClusterMessage,
  decodeClusterMessage,
  encodeClusterMessage,
} from './messages.js'
export { CONTROL_TOPIC, documentTopic, nodeTopic } from './topics.js'

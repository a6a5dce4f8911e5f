/**
 * `synckit-engine/redis`: the Redis cluster broker (ioredis). Pass the broker to the server's
 * `broker` option; every node on the same Redis and prefix shares documents and presence.
 */

export type { Broker } from '../src/cluster/broker.js'
export { createRedisBroker, RedisBroker, type RedisBrokerOptions } from '../src/cluster/redis-broker.js'

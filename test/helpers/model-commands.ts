/**
 * fast-check commands over a `World` (see model-world.ts) and the arbitraries they draw from.
 * Commands name clients and nodes by index; a command whose client or node does not exist in the
 * run, or that cannot apply (nothing to deliver, already offline...), is skipped by `check`, so
 * shrinking removes it. `toString` prints the step the way a counterexample should read.
 */
import fc from 'fast-check'
import type { Register } from '../../src/crdt/types.js'
import type { JsonValue } from '../../src/protocol/types.js'
import type { ClientModel, Dialect, SetOp } from './model-clients.js'
import { START_MS, type World } from './model-world.js'

export type WorldCommand = fc.Command<World, World>

/** A small field set so writes collide; `__proto__` checks that no layer treats names as keys. */
export const fieldArb = fc.constantFrom('title', 'done', 'tags', '__proto__')

const leafArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -2, max: 9 }),
  fc.constantFrom('', 'a', 'b', 'ü✓'),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
)

/** JSON values incl. null, nested objects and arrays, round-tripped so they are wire-exact (no -0). */
export const valueArb: fc.Arbitrary<JsonValue> = fc
  .oneof(
    { weight: 4, arbitrary: leafArb },
    { weight: 1, arbitrary: fc.array(leafArb, { maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(
        fc.constantFrom('k', 'n'),
        fc.oneof(leafArb, fc.array(leafArb, { maxLength: 2 })),
        {
          maxKeys: 2,
          noNullPrototype: true,
        },
      ),
    },
  )
  .map((value) => JSON.parse(JSON.stringify(value)) as JsonValue)

export const dialectArb: fc.Arbitrary<Dialect> = fc.constantFrom('legacy', 'sdk', 'sdk01')

/**
 * Registers an older node left in the store, stamped up to an hour in the future or the past of
 * the nodes' wall clocks (a persisted stamp ahead of the wall clock must still lose to new writes).
 */
export const initialRegistersArb: fc.Arbitrary<Register[]> = fc
  .uniqueArray(
    fc.record({
      field: fieldArb,
      value: valueArb,
      deleted: fc.boolean(),
      skewMs: fc.integer({ min: -3.6e6, max: 3.6e6 }),
    }),
    { maxLength: 3, selector: (r) => r.field },
  )
  .map((rows) =>
    rows.map(({ field, value, deleted, skewMs }, i) => ({
      field,
      value: deleted ? null : value,
      deleted,
      stamp: { ms: START_MS + skewMs, counter: 0, node: 'node-old' },
      dot: { node: 'node-old', seq: i + 1 },
    })),
  )

const show = (value: JsonValue): string => JSON.stringify(value)

const times = <T>(n: number, item: T): T[] => Array.from({ length: n }, () => item)

function command(label: string, check: (world: World) => boolean, run: (world: World) => void): WorldCommand {
  return { check, run: (_model, world) => run(world), toString: () => label }
}

/** A client command: skipped when the run has fewer clients or `check` refuses. */
function clientCommand(
  client: number,
  label: string,
  check: (client: ClientModel, world: World) => boolean,
  run: (client: ClientModel, world: World) => void,
): WorldCommand {
  const name = `client-${client + 1}`
  const get = (world: World) => world.clients[client]
  return command(
    `${name}.${label}`,
    (world) => {
      const c = get(world)
      return c !== undefined && check(c, world)
    },
    (world) => {
      const c = get(world)
      if (c) run(c, world)
    },
  )
}

export interface CommandSpace {
  /** Largest client count of the runs (indexes beyond a run's clients are skipped). */
  maxClients: number
  /** Largest node count of the runs (1 for a single engine). */
  nodes: number
}

/** Every command, weighted by repetition (fc.commands picks among the arbitraries uniformly). */
export function worldCommands({ maxClients, nodes }: CommandSpace): fc.Arbitrary<WorldCommand>[] {
  const clientArb = fc.nat({ max: maxClients - 1 })
  const nodeArb = fc.nat({ max: nodes - 1 })
  const at = (node: number) => (nodes > 1 ? `@node${node}` : '')

  const write = fc
    .tuple(
      clientArb,
      fc.array(fc.record({ field: fieldArb, value: valueArb }), { minLength: 1, maxLength: 3 }),
    )
    .map(([c, ops]: [number, SetOp[]]) =>
      clientCommand(
        c,
        `set(${ops.map((op) => `${op.field}=${show(op.value)}`).join(', ')})`,
        () => true,
        (client, world) => world.set(client, ops),
      ),
    )
  const remove = fc.tuple(clientArb, fieldArb).map(([c, field]) =>
    clientCommand(
      c,
      `delete(${field})`,
      (client) => client.dialect === 'legacy',
      (client, world) => world.delete(client, field),
    ),
  )
  const deliver = fc.tuple(clientArb, fc.integer({ min: 1, max: 3 })).map(([c, n]) =>
    clientCommand(
      c,
      `deliver(${n})`,
      (client) => client.connected && client.outbox.length > 0,
      (client, world) => world.deliver(client, n),
    ),
  )
  const duplicate = clientArb.map((c) =>
    clientCommand(
      c,
      'duplicateNextFrame()',
      (client) => client.outbox.length > 0,
      (client, world) => world.duplicate(client),
    ),
  )
  const reorder = clientArb.map((c) =>
    clientCommand(
      c,
      'holdBackNextFrame()',
      (client, world) => world.canReorder(client),
      (client, world) => world.reorder(client),
    ),
  )
  const read = clientArb.map((c) =>
    clientCommand(
      c,
      'read()',
      (client, world) => world.unread(client) > 0,
      (client, world) => world.read(client),
    ),
  )
  const disconnect = clientArb.map((c) =>
    clientCommand(
      c,
      'disconnect()',
      (client) => client.connected,
      (client, world) => world.disconnect(client),
    ),
  )
  const reconnect = fc.tuple(clientArb, nodeArb, fc.boolean()).map(([c, node, viaSyncRequest]) =>
    clientCommand(
      c,
      `reconnect${at(node)}(${viaSyncRequest ? 'sync_request' : ''})`,
      (client, world) => world.canReconnect(client, node) && (client.dialect === 'sdk' || !viaSyncRequest),
      (client, world) => world.reconnect(client, node, { viaSyncRequest }),
    ),
  )
  const hasNode = (node: number) => (w: World) => node < w.nodes.length
  const flush = nodeArb.map((node) => command(`flush${at(node)}()`, hasNode(node), (w) => w.flush(node)))
  const settle = nodeArb.map((node) => command(`settle${at(node)}()`, hasNode(node), (w) => w.settle(node)))
  const time = fc
    .tuple(nodeArb, fc.integer({ min: -120_000, max: 120_000 }), fc.boolean())
    .map(([node, delta, tick]) =>
      command(
        `clock${at(node)}(${delta > 0 ? '+' : ''}${delta}ms${tick ? ', tick' : ''})`,
        hasNode(node),
        (w) => w.time(node, delta, tick),
      ),
    )
  const evict = nodeArb.map((node) => command(`evictIdle${at(node)}()`, hasNode(node), (w) => w.evict(node)))
  const failPersist = nodeArb.map((node) =>
    command(`store.failPersist${at(node)}()`, hasNode(node), (w) => w.failPersist(node)),
  )
  const restart = nodeArb.map((node) =>
    command(`restart${at(node)}()`, hasNode(node), (w) => w.restart(node)),
  )

  const commands = [
    ...times(4, write),
    remove,
    ...times(4, deliver),
    duplicate,
    reorder,
    ...times(3, read),
    disconnect,
    // Mostly refused while the client is online, so drawn more often than `disconnect`.
    ...times(3, reconnect),
    ...times(2, flush),
    ...times(2, settle),
    time,
    evict,
    failPersist,
    restart,
  ]
  if (nodes > 1) {
    const brokerDeliver = fc.nat({ max: 7 }).map((i) =>
      command(
        `broker.deliver(#${i})`,
        (w) => w.broker.length > 0,
        (w) => w.brokerDeliver(i),
      ),
    )
    const brokerDuplicate = fc.nat({ max: 7 }).map((i) =>
      command(
        `broker.duplicate(#${i})`,
        (w) => w.broker.length > 0,
        (w) => w.brokerDuplicate(i),
      ),
    )
    commands.push(...times(4, brokerDeliver), brokerDuplicate)
  }
  return commands
}

/**
 * `synckit-engine/crdt`: last-writer-wins registers with tombstones, the hybrid logical clock,
 * vector clocks and awareness, pure: for stores that merge registers by the same rule.
 *
 * @packageDocumentation
 */
export * from './awareness.js'
export * from './hlc.js'
export * from './lww-document.js'
export * from './register.js'
export * from './stamp.js'
export type * from './types.js'
export * from './vector-clock.js'

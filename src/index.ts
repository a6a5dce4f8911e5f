export * from './protocol/types.js'
export * from './crdt/types.js'
export * from './engine/types.js'

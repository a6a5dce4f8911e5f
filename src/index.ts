export * from './crdt/index.js'
export * from './engine/index.js'
export * from './protocol/index.js'

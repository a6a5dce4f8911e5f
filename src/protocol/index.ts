/**
 * `synckit-engine/protocol`: the wire codecs (13-byte binary frames, JSON frames, detection,
 * validation into a typed union, chunk reassembly), pure, for transports and tools that speak
 * the SyncKit protocol themselves.
 *
 * @packageDocumentation
 */
export * from './base64.js'
export * from './binary-header.js'
export * from './chunks.js'
export * from './client-id.js'
export * from './clock.js'
export * from './codes.js'
export * from './decode-client-frame.js'
export * from './decode-server-frame.js'
export * from './detect.js'
export * from './document-id.js'
export * from './encode.js'
export * from './errors.js'
export * from './guards.js'
export * from './parse.js'
export * from './types.js'
export * from './utf8.js'
export { isClientMessageType, validateClientMessage } from './validate.js'
export * from './validate-writes.js'

import type { PingMessage } from '../../protocol/types.js'
import type { EngineContext } from '../context.js'
import type { Connection } from '../state.js'

/** `ping` -> `pong` at once, authenticated or not (the SDK reconnects after 5 s without one). */
export function handlePing(ctx: EngineContext, connection: Connection, _message: PingMessage): void {
  ctx.sendTo(connection.id, { type: 'pong' })
}

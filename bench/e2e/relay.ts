/**
 * The reference of the e2e benchmark: a plain `ws` relay with no protocol. A socket joins the room
 * named by `?doc=` and every frame it sends is forwarded, as received, to every socket of the room,
 * the sender included (the server echoes to the writer too). No decoding, no state, no storage:
 * what a WebSocket server costs on this machine, the floor a sync server can approach.
 * Prints `{"port":…}` on stdout once listening on 127.0.0.1.
 */
import { type RawData, WebSocket, WebSocketServer } from 'ws'

const rooms = new Map<string, WebSocket[]>()
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  clientTracking: false,
  skipUTF8Validation: true,
})

wss.on('connection', (ws, req) => {
  const room = new URL(req.url ?? '/', 'http://relay').searchParams.get('doc') ?? ''
  let peers = rooms.get(room)
  if (!peers) {
    peers = []
    rooms.set(room, peers)
  }
  peers.push(ws)
  const members = peers
  ws.on('message', (data: RawData, isBinary: boolean) => {
    for (const peer of members) if (peer.readyState === WebSocket.OPEN) peer.send(data, { binary: isBinary })
  })
  ws.on('error', () => {})
  ws.on('close', () => {
    const at = members.indexOf(ws)
    if (at >= 0) members.splice(at, 1)
    if (members.length === 0) rooms.delete(room)
  })
})

wss.on('listening', () => {
  const address = wss.address()
  const port = typeof address === 'object' && address ? address.port : 0
  process.stdout.write(`${JSON.stringify({ port })}\n`)
})

const stop = (): void => {
  wss.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

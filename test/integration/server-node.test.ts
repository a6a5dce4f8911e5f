import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { attachToHttpServer, createRequestListener } from '../../adapters/node.js'
import { createSyncServer, type SyncServer } from '../../src/server/index.js'
import { CODES, RawClient, withCode } from './server-client.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function sync(): SyncServer {
  const server = createSyncServer({ auth: { required: false } })
  cleanups.push(() => server.close())
  return server
}

async function listen(listener?: RequestListener): Promise<{ server: Server; port: number }> {
  const server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
  return { server, port: (server.address() as AddressInfo).port }
}

async function client(url: string): Promise<RawClient> {
  const c = await RawClient.connect(url)
  cleanups.push(async () => c.ws.terminate())
  return c
}

/** Stands in for Express/Fastify/Hono: it owns every plain HTTP request. */
const app: RequestListener = (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end(`app:${req.url}`)
}

describe('node adapter (attachToHttpServer)', () => {
  it('mounts WebSocket upgrades on /ws beside an existing app', async () => {
    const s = sync()
    const { server, port } = await listen(app)
    const attached = attachToHttpServer(s, server)
    cleanups.push(() => attached.close())
    const c = await client(`ws://127.0.0.1:${port}/ws`)
    c.send(CODES.ping, {})
    expect((await c.next(withCode(CODES.pong))).binary).toBe(true)
    c.send(CODES.subscribe, { documentId: 'room-1' })
    expect((await c.next(withCode(CODES.sync_response))).payload).toMatchObject({
      documentId: 'room-1',
      state: {},
    })
    // The app still answers plain HTTP, including /health: handleHttp defaults to false.
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).text()).toBe('app:/health')
  })

  it('refuses upgrades on other paths when nobody else handles them', async () => {
    const { server, port } = await listen(app)
    const attached = attachToHttpServer(sync(), server, { path: '/sync' })
    cleanups.push(() => attached.close())
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve))
    expect(error.message).toContain('404')
    const ok = await client(`ws://127.0.0.1:${port}/sync`)
    ok.send(CODES.ping, {})
    await ok.next(withCode(CODES.pong))
  })

  it('leaves other upgrade paths to another listener', async () => {
    const { server, port } = await listen(app)
    const attached = attachToHttpServer(sync(), server)
    cleanups.push(() => attached.close())
    const other = new WebSocketServer({ noServer: true })
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('other-server'))
    })
    cleanups.push(async () => other.close())
    const c = new WebSocket(`ws://127.0.0.1:${port}/other`)
    cleanups.push(async () => c.terminate())
    const first = await new Promise<string>((resolve) => c.once('message', (data) => resolve(String(data))))
    expect(first).toBe('other-server')
  })

  it('serves the SyncKit routes with handleHttp: true', async () => {
    const { server, port } = await listen()
    const attached = attachToHttpServer(sync(), server, { handleHttp: true })
    cleanups.push(() => attached.close())
    const response = await fetch(`http://127.0.0.1:${port}/health/live`)
    expect(response.status).toBe(200)
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await response.json()).toEqual({ status: 'healthy' })
    expect((await fetch(`http://127.0.0.1:${port}/ws`)).status).toBe(426)
  })

  it('createRequestListener serves the routes from any node:http server', async () => {
    const { port } = await listen(createRequestListener(sync()))
    const root = await fetch(`http://127.0.0.1:${port}/`)
    expect(await root.json()).toMatchObject({ name: 'synckit-engine', endpoints: { ws: '/ws' } })
    const head = await fetch(`http://127.0.0.1:${port}/health`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    const post = await fetch(`http://127.0.0.1:${port}/health`, { method: 'POST', body: '{}' })
    expect(post.status).toBe(405)
    const huge = await fetch(`http://127.0.0.1:${port}/health`, {
      method: 'POST',
      body: 'x'.repeat(2_000_000),
    })
    expect(huge.status).toBe(413)
    expect(await huge.json()).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body larger than 1048576 bytes' },
    })
  })

  it('close() detaches and closes its sockets with 1001', async () => {
    const { server, port } = await listen(app)
    const attached = attachToHttpServer(sync(), server)
    const c = await client(`ws://127.0.0.1:${port}/ws`)
    await attached.close()
    expect((await c.closed).code).toBe(1001)
    expect(server.listenerCount('upgrade')).toBe(0)
  })
})

import { request } from 'node:http'

/** What the server answered to a WebSocket upgrade request. */
export interface UpgradeAnswer {
  /** 101 when the handshake went through (the socket is then destroyed at once). */
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The response body, for a refusal. */
  body: string
}

/**
 * Sends one WebSocket upgrade request over a raw HTTP connection and reports the status the
 * client sees: 101 for an accepted handshake, the HTTP status and body of a refusal.
 */
export function probeUpgrade(url: string, headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  const target = new URL(url.replace(/^ws/, 'http'))
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    })
    req.once('upgrade', (response, socket) => {
      socket.destroy()
      resolve({ status: response.statusCode ?? 0, headers: response.headers, body: '' })
    })
    req.once('response', (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.once('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      )
    })
    req.once('error', reject)
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer to the upgrade of ${url}`)))
    req.end()
  })
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import { SECURITY_HEADERS } from './http.js'

/**
 * node:http <-> Web `Request`/`Response`, shared by the `ws` and `node` adapters so every runtime
 * serves the same routes through `SyncServer.fetch`. Not exported from the main entry point (it
 * is Node-only); adapters import it directly.
 */

/** Request bodies are read only up to this size (the routes that take bodies take small JSON). */
const MAX_BODY_BYTES = 1_048_576

export interface FetchHandler {
  fetch(request: Request): Promise<Response>
}

/** A `(req, res)` listener serving the SyncKit HTTP routes; mount it on any node:http server. */
export function createRequestListener(
  server: FetchHandler,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serve(server, req, res)
  }
}

async function serve(server: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const request = await toWebRequest(req)
    if (!request) return writeTooLarge(res)
    await writeWebResponse(res, await server.fetch(request), req.method === 'HEAD')
  } catch {
    if (!res.headersSent) writePlain(res, 500, 'Internal Server Error')
    else res.destroy()
  }
}

/** `undefined` when the body exceeds the limit. */
export async function toWebRequest(req: IncomingMessage): Promise<Request | undefined> {
  const method = req.method ?? 'GET'
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue
    for (const item of Array.isArray(value) ? value : [value]) {
      try {
        headers.append(name, item)
      } catch {
        // A header value the Fetch API rejects: the routes never read it.
      }
    }
  }
  const init: RequestInit = { method, headers }
  if (method !== 'GET' && method !== 'HEAD') {
    const body = await readBody(req)
    if (!body) return undefined
    init.body = body
  }
  return new Request(requestUrl(req), init)
}

function requestUrl(req: IncomingMessage): string {
  const path = req.url?.startsWith('/') ? req.url : '/'
  try {
    return new URL(path, `http://${req.headers.host ?? 'localhost'}`).href
  } catch {
    return new URL(path, 'http://localhost').href
  }
}

async function readBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const chunks: Uint8Array[] = []
  let size = 0
  // `destroyOnReturn: false`: leaving early must not kill the socket before the 413 goes out.
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    const bytes = chunk instanceof Uint8Array ? chunk : new TextEncoder().encode(String(chunk))
    size += bytes.byteLength
    if (size > MAX_BODY_BYTES) {
      req.resume()
      return undefined
    }
    chunks.push(bytes)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

export async function writeWebResponse(res: ServerResponse, response: Response, head = false): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  const body = head || response.body === null ? undefined : new Uint8Array(await response.arrayBuffer())
  if (body) headers['content-length'] = String(body.byteLength)
  res.writeHead(response.status, response.statusText || undefined, headers)
  res.end(body)
}

/** In the REST API's error shape (docs/rest.md), which is also JSON for every other route. */
function writeTooLarge(res: ServerResponse): void {
  res.writeHead(413, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    Connection: 'close',
  })
  res.end(
    JSON.stringify({
      error: { code: 'PAYLOAD_TOO_LARGE', message: `Request body larger than ${MAX_BODY_BYTES} bytes` },
    }),
  )
}

function writePlain(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    Connection: 'close',
  })
  res.end(message)
}

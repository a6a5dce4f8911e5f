/** JSON responses for the auth routes; tokens must never be cached by a browser or proxy. */
export function json(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
  })
}

/** Request bodies of the auth routes are tiny; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 65_536

export type BodyResult = { ok: true; body: Record<string, unknown> } | { ok: false; response: Response }

/**
 * Reads a JSON object body with a byte cap. Unparseable JSON → 400 `Invalid JSON body` (the
 * reference answered 500); valid JSON that is not an object reads as `{}`, so the route reports
 * the missing field instead.
 */
export async function readJsonBody(request: Request): Promise<BodyResult> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > MAX_BODY_BYTES) return tooLarge()
  let text: string
  try {
    const bytes = await readCappedBody(request, MAX_BODY_BYTES)
    if (!bytes) return tooLarge()
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return invalidJson()
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return invalidJson()
  }
  const body =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {}
  return { ok: true, body }
}

/**
 * The body's bytes, read from its stream until `maxBytes` (a lying or absent `Content-Length`
 * changes nothing); `undefined` once it is longer, the rest of the stream cancelled unread.
 */
export async function readCappedBody(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

function invalidJson(): BodyResult {
  return { ok: false, response: json(400, { error: 'Invalid JSON body' }) }
}

function tooLarge(): BodyResult {
  return { ok: false, response: json(413, { error: 'Request body too large' }) }
}

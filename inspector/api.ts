/** The inspector's API (`/inspector/api`), with the admin token of this tab. */

const TOKEN_KEY = 'synckit-inspector-token'
const API = '/inspector/api'

/** The server refused the token (401: none or invalid, 403: not an admin). */
export class AccessRefused extends Error {
  constructor(readonly status: number) {
    super(status === 403 ? 'not an admin' : 'unauthorized')
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
}

function headers(json: boolean): Headers {
  const result = new Headers()
  const value = token.get()
  if (value) result.set('Authorization', `Bearer ${value}`)
  if (json) result.set('Content-Type', 'application/json')
  return result
}

async function answer<T>(response: Response): Promise<T> {
  if (response.status === 401 || response.status === 403) throw new AccessRefused(response.status)
  const body = (await response.json().catch(() => ({}))) as T & { error?: string }
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`)
  return body
}

/** GET `/inspector/api/<path>`. */
export async function read<T>(
  path: string,
  query: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<T> {
  const search = new URLSearchParams(query).toString()
  const init: RequestInit = { headers: headers(false), cache: 'no-store' }
  if (signal) init.signal = signal
  return answer<T>(await fetch(`${API}/${path}${search ? `?${search}` : ''}`, init))
}

/** POST an action; the answer's body whatever its status (a refusal explains itself). */
export async function act(
  path: string,
  body: Record<string, string>,
): Promise<{ ok: boolean; body: Record<string, unknown> }> {
  const response = await fetch(`${API}/${path}`, {
    method: 'POST',
    headers: headers(true),
    body: JSON.stringify(body),
  })
  if (response.status === 401 || response.status === 403) throw new AccessRefused(response.status)
  return { ok: response.ok, body: (await response.json().catch(() => ({}))) as Record<string, unknown> }
}

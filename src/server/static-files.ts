/** One file served by `fetch`: its bytes (or text) and its media type. */
export interface StaticFile {
  readonly body: string | Uint8Array
  readonly contentType: string
}

/**
 * Looks up a file by URL path (`/`, `/demo/app.js`): the pathname as the URL has it, without a
 * trailing slash. `undefined` when there is none. A source reading a file system must refuse
 * paths that leave its folder; `loadDemoFiles` keeps every file in memory and looks up a `Map`.
 */
export type StaticFiles = (path: string) => StaticFile | undefined | Promise<StaticFile | undefined>

/**
 * The pages' CSP: scripts, styles, images and connections (fetch, WebSocket) to this origin only,
 * nothing inline, no plugins, no framing, no forms. `'self'` covers the same host's `ws:`/`wss:`
 * in current browsers (CSP Level 3: Chromium since 71, Safari since 16, Firefox).
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Headers of a static file that differ from the API's: its CSP, and revalidation on every load. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': PAGE_CSP,
  'Cache-Control': 'no-cache',
})

/**
 * Whether `path` may be a static file. `/` is the API's JSON info unless a browser navigates to
 * it: browsers ask for `text/html` by name, API clients and `curl` (`*\/*`) do not.
 */
export function mayServeFile(request: Request, path: string, isApiRoute: boolean): boolean {
  if (!isApiRoute) return true
  return path === '/' && /(^|,)\s*text\/html\s*(;|,|$)/i.test(request.headers.get('accept') ?? '')
}

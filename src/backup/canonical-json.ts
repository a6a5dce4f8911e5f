/**
 * JSON text with object keys in code-unit order at every depth and no whitespace, so the same data
 * always gives the same bytes, whichever store it came from (Postgres `jsonb` reorders keys, the
 * memory store keeps insertion order). JSON objects are unordered, so nothing is lost.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value)
    if (text === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
      throw new TypeError(`not a JSON value: ${String(value)}`)
    }
    return text
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const keys = Object.keys(value).sort()
  const parts: string[] = []
  for (const key of keys) {
    parts.push(`${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
  }
  return `{${parts.join(',')}}`
}

/** Longest accepted client id (presence, text states, relayed ops), as on every path that keeps one. */
export const MAX_CLIENT_ID_LENGTH = 128

/** A client id the server may keep: a non-empty string of at most 128 characters. */
export function isValidClientId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_CLIENT_ID_LENGTH
}

/**
 * The `default` of a switch over every member of a union (messages, resolutions): a member added
 * to the union without a case fails the type check here instead of being dropped at run time.
 */
export function unreachable(value: never, what: string): never {
  const { type, kind } = value as { type?: unknown; kind?: unknown }
  throw new Error(`Unhandled ${what}: ${String(type ?? kind)}`)
}

/** The REST API's settings (`SyncServerOptions.rest`). */
export interface RestOptions {
  /** Largest request body read, in bytes; a longer one is refused with 413. Default 1 MiB. */
  maxBodyBytes?: number
}

/** The REST API's settings with defaults applied. */
export interface ResolvedRestOptions {
  maxBodyBytes: number
}

export const DEFAULT_REST_MAX_BODY_BYTES = 1_048_576

/** `rest` checked once at startup: off (undefined) unless `true` or an options object. */
export function resolveRestOptions(
  option: boolean | RestOptions | undefined,
): ResolvedRestOptions | undefined {
  if (option === undefined || option === false) return undefined
  if (option === true) return { maxBodyBytes: DEFAULT_REST_MAX_BODY_BYTES }
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new TypeError('Invalid option rest: expected true, false or { maxBodyBytes }')
  }
  const unknown = Object.keys(option).find((key) => key !== 'maxBodyBytes')
  if (unknown !== undefined)
    throw new TypeError(`Invalid option rest.${unknown}: unknown (expected maxBodyBytes)`)
  const maxBodyBytes = option.maxBodyBytes ?? DEFAULT_REST_MAX_BODY_BYTES
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new RangeError(
      `Invalid option rest.maxBodyBytes: ${String(maxBodyBytes)} (expected a positive integer)`,
    )
  }
  return { maxBodyBytes }
}

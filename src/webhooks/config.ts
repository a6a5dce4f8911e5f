/** The events a webhook endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['document.changed', 'document.deleted', 'presence.changed'] as const
/** `document.changed`, `document.deleted` or `presence.changed`. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** What an endpoint receives when it names no events: presence is opt-in (it is chatty). */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = ['document.changed', 'document.deleted']

/** One receiver: `webhooks: [{ url, events, secret }]`. */
export interface WebhookEndpoint {
  /** `http:` or `https:` URL that receives the POSTs. */
  url: string
  /** Default `['document.changed', 'document.deleted']`. */
  events?: readonly WebhookEventType[]
  /**
   * Standard Webhooks signing secret: `whsec_` followed by 24 to 64 random bytes in base64
   * (e.g. `'whsec_' + crypto.randomBytes(32).toString('base64')`).
   */
  secret: string
}

/** An endpoint after validation: events resolved, nothing left optional. */
export interface ResolvedWebhookEndpoint {
  url: string
  events: ReadonlySet<WebhookEventType>
  secret: string
}

/** Invalid webhook configuration; the message names the entry or variable, never the secret. */
export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError'
  /** The variable at fault (`SYNCKIT_WEBHOOK_URL`, ...), or `webhooks` for a list given in code. */
  readonly setting: string

  constructor(message: string, setting = 'webhooks') {
    super(message)
    this.setting = setting
  }
}

const SECRET_PREFIX = 'whsec_'
const MIN_SECRET_BYTES = 24
const MAX_SECRET_BYTES = 64
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** Decoded length of a whsec_ secret, or a reason it is not one. */
function secretProblem(secret: unknown): string | undefined {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) {
    return `must be a string starting with "${SECRET_PREFIX}"`
  }
  const encoded = secret.slice(SECRET_PREFIX.length)
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) return `must be "${SECRET_PREFIX}" + base64`
  const padding = encoded.endsWith('==') ? 2 : encoded.endsWith('=') ? 1 : 0
  const bytes = (encoded.length / 4) * 3 - padding
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    return `must hold ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes (has ${bytes})`
  }
  return undefined
}

function urlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string') return 'must be a string'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `is not a URL: ${JSON.stringify(url)}`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http: or https: URL'
  return undefined
}

function resolveEvents(events: unknown, where: string): ReadonlySet<WebhookEventType> {
  if (events === undefined) return new Set(DEFAULT_WEBHOOK_EVENTS)
  if (!Array.isArray(events) || events.length === 0) {
    throw new WebhookConfigError(
      `${where}.events must be a non-empty list of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    )
  }
  const out = new Set<WebhookEventType>()
  for (const event of events) {
    if (!(WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(event)) {
      throw new WebhookConfigError(
        `${where}.events: unknown event ${JSON.stringify(event)} (expected ${WEBHOOK_EVENT_TYPES.join(', ')})`,
      )
    }
    out.add(event as WebhookEventType)
  }
  return out
}

/** Checks a `webhooks` list (from code or a config file); throws `WebhookConfigError` naming the entry. */
export function resolveWebhookEndpoints(endpoints: unknown): ResolvedWebhookEndpoint[] {
  if (!Array.isArray(endpoints))
    throw new WebhookConfigError('webhooks must be a list of { url, events, secret }')
  return endpoints.map((entry: unknown, index) => {
    const where = `webhooks[${index}]`
    if (typeof entry !== 'object' || entry === null)
      throw new WebhookConfigError(`${where} must be an object`)
    const { url, events, secret } = entry as Record<string, unknown>
    const badUrl = urlProblem(url)
    if (badUrl) throw new WebhookConfigError(`${where}.url ${badUrl}`)
    // The secret itself never appears in a message: config errors end up in logs.
    const badSecret = secretProblem(secret)
    if (badSecret) throw new WebhookConfigError(`${where}.secret ${badSecret}`)
    return { url: url as string, events: resolveEvents(events, where), secret: secret as string }
  })
}

/**
 * The endpoint the environment configures: `SYNCKIT_WEBHOOK_URL` with `SYNCKIT_WEBHOOK_SECRET`,
 * and optionally `SYNCKIT_WEBHOOK_EVENTS` (comma-separated). Pure: the CLI passes `process.env`.
 * Returns `[]` when no URL is set; throws `WebhookConfigError` when the pair is incomplete or invalid.
 */
export function webhooksFromEnv(env: Readonly<Record<string, string | undefined>>): WebhookEndpoint[] {
  const url = env.SYNCKIT_WEBHOOK_URL?.trim() || undefined
  const secret = env.SYNCKIT_WEBHOOK_SECRET?.trim() || undefined
  const events = env.SYNCKIT_WEBHOOK_EVENTS?.trim() || undefined
  if (url === undefined) {
    if (secret !== undefined || events !== undefined) {
      throw new WebhookConfigError(
        'SYNCKIT_WEBHOOK_SECRET / SYNCKIT_WEBHOOK_EVENTS are set without SYNCKIT_WEBHOOK_URL',
        'SYNCKIT_WEBHOOK_URL',
      )
    }
    return []
  }
  if (secret === undefined) {
    throw new WebhookConfigError(
      'SYNCKIT_WEBHOOK_URL is set without SYNCKIT_WEBHOOK_SECRET',
      'SYNCKIT_WEBHOOK_SECRET',
    )
  }
  const endpoint: WebhookEndpoint = { url, secret }
  if (events !== undefined) {
    endpoint.events = events.split(',').map((event) => event.trim()) as WebhookEventType[]
  }
  // Same checks as a config file, with the variable names in the message.
  try {
    resolveWebhookEndpoints([endpoint])
  } catch (error) {
    if (!(error instanceof WebhookConfigError)) throw error
    const variable = (['url', 'secret', 'events'] as const)
      .map((key) => ({ entry: `webhooks[0].${key}`, name: `SYNCKIT_WEBHOOK_${key.toUpperCase()}` }))
      .find(({ entry }) => error.message.startsWith(entry))
    if (!variable) throw error
    throw new WebhookConfigError(error.message.replace(variable.entry, variable.name), variable.name)
  }
  return [endpoint]
}

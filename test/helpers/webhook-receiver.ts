import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

/** What the receiver does with the Nth request (0-based): answer with a status, or never answer. */
export type ReceiverBehaviour = (index: number) => number | 'hang'

export interface ReceivedWebhook {
  headers: Record<string, string>
  body: string
  /** The parsed body, only set when the signature verified. */
  payload: unknown
  /** The standardwebhooks verification error, when it failed. */
  verifyError?: string
  status: number | 'hang'
}

/**
 * A real HTTP receiver on 127.0.0.1 (port 0) that verifies every request with the
 * `standardwebhooks` package, as a user's receiver would.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = []
  behaviour: ReceiverBehaviour = () => 200
  readonly #server = createServer((req, res) => this.#handle(req, res))
  readonly #verifier: Webhook
  readonly #hung: ServerResponse[] = []

  private constructor(readonly secret: string) {
    this.#verifier = new Webhook(secret)
  }

  static async start(secret: string): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret)
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve))
    return receiver
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo
    return `http://127.0.0.1:${port}/hooks`
  }

  /** Requests whose signature verified. */
  verified(): ReceivedWebhook[] {
    return this.received.filter((r) => r.verifyError === undefined)
  }

  /** Delivered = verified and answered 2xx. */
  delivered(): ReceivedWebhook[] {
    return this.verified().filter((r) => typeof r.status === 'number' && r.status < 300)
  }

  async close(): Promise<void> {
    for (const res of this.#hung) res.destroy()
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === 'string') headers[name] = value
      const status = this.behaviour(this.received.length)
      const record: ReceivedWebhook = { headers, body, payload: undefined, status }
      try {
        record.payload = this.#verifier.verify(body, headers)
      } catch (error) {
        record.verifyError = error instanceof Error ? error.message : String(error)
      }
      this.received.push(record)
      if (status === 'hang') {
        this.#hung.push(res)
        return
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok')
    })
  }
}

export const TEST_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`

/** A receiver with `TEST_SECRET`, closed by the test's cleanup list. */
export async function startReceiver(cleanups: (() => Promise<void>)[]): Promise<WebhookReceiver> {
  const receiver = await WebhookReceiver.start(TEST_SECRET)
  cleanups.push(() => receiver.close())
  return receiver
}

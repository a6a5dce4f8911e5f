import { ConfigError, type OptionValues, parseCommandLine } from './args.js'
import { type CliCommand, type CliIo, type CommandResult, messageOf } from './command.js'
import { checkUrl, envReader, optionalInteger } from './values.js'

/**
 * `synckit-engine docs list|get|set|delete|presence`: the documents of a running server, over its
 * REST API (docs/rest.md). Prints the server's JSON answer on stdout; an error answer is printed
 * on stderr as the server sent it (`{"error":{"code","message"}}`) and exits 1.
 */

export const DOCS_HELP = `Usage: synckit-engine docs <command> [options]

Reads and writes the documents of a running server over its REST API (docs/rest.md) and
prints the JSON it answers. The server must serve the API: it does when authentication is
required, or with --rest / SYNCKIT_REST=true.

Commands:
  docs list [--prefix P] [--after ID] [--limit N]
                                Document ids in byte order, one page (admin). Pass the
                                page's "next" as --after for the following one
  docs get ID [--meta]          A document's fields and vector clock; --meta adds every
                                register with its stamp, tombstones included
  docs set ID FIELD=TEXT... FIELD:=JSON... [--delete F1,F2]
                                Sets fields (FIELD=TEXT a string, FIELD:=JSON any JSON
                                value: count:=3, done:=true, tags:='["a"]') and deletes
                                the comma-separated --delete fields, in one write
  docs set ID --json '{"set":{"title":"Hi"},"delete":["draft"]}'
                                The same write as the request body itself
  docs delete ID                Deletes the document everywhere (admin)
  docs presence ID              The clients present on the document

Options:
  --url <url>        The server (env SYNCKIT_URL, default http://127.0.0.1:8080)
  --token <jwt>      Bearer token (env SYNCKIT_TOKEN; the variable keeps it out of ps)
  --api-key <key>    API key, sent as X-API-Key (env SYNCKIT_API_KEY)
  -h, --help         Show this help

Exit code 0 on success; 1 on an error answer (printed on stderr as the server's JSON), an
unreachable server, or bad arguments.
`

const DEFAULT_URL = 'http://127.0.0.1:8080'
const TIMEOUT_MS = 30_000

const CONNECTION = {
  url: { type: 'string' },
  token: { type: 'string' },
  'api-key': { type: 'string' },
} as const

/** The options of each subcommand, and how many arguments it takes. */
const SUBCOMMANDS = {
  list: {
    options: {
      ...CONNECTION,
      prefix: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
    },
    args: 0,
  },
  get: { options: { ...CONNECTION, meta: { type: 'boolean' } }, args: 1 },
  set: { options: { ...CONNECTION, json: { type: 'string' }, delete: { type: 'string' } }, args: 10_000 },
  delete: { options: CONNECTION, args: 1 },
  presence: { options: CONNECTION, args: 1 },
} as const

type Subcommand = keyof typeof SUBCOMMANDS

/** Every subcommand's options: each parses a subset, the others absent. */
type AnyOptions = OptionValues<
  (typeof SUBCOMMANDS)['list']['options'] &
    (typeof SUBCOMMANDS)['get']['options'] &
    (typeof SUBCOMMANDS)['set']['options']
>

/** One request to the REST API. */
interface ApiCall {
  method: 'GET' | 'PATCH' | 'DELETE'
  path: string
  body?: unknown
}

export const docsCommand: CliCommand = {
  name: 'docs',
  async run(argv, io) {
    const [name, ...rest] = argv
    if (name === undefined || name === '--help' || name === '-h') return help(io)
    if (!Object.hasOwn(SUBCOMMANDS, name)) {
      throw new ConfigError(
        name,
        `Unknown docs command "${name}" (list, get, set, delete, presence; see --help)`,
      )
    }
    const spec = SUBCOMMANDS[name as Subcommand]
    const { help: wantsHelp, options, positionals } = parseCommandLine(rest, spec.options, spec.args)
    if (wantsHelp) return help(io)
    const call = apiCall(name as Subcommand, options as AnyOptions, positionals)
    return send(io, call, connection(io, options))
  },
}

function help(io: CliIo): number {
  io.stdout.write(DOCS_HELP)
  return 0
}

function apiCall(name: Subcommand, options: AnyOptions, args: readonly string[]): ApiCall {
  if (name === 'list') {
    const query = new URLSearchParams()
    if (options.prefix !== undefined) query.set('prefix', options.prefix)
    if (options.after !== undefined) query.set('after', options.after)
    const limit = optionalInteger('--limit', options.limit, 1, Number.MAX_SAFE_INTEGER)
    if (limit !== undefined) query.set('limit', String(limit))
    const search = query.toString()
    return { method: 'GET', path: `/v1/documents${search ? `?${search}` : ''}` }
  }
  const id = args[0]
  if (id === undefined) throw new ConfigError('ID', `Missing ID: synckit-engine docs ${name} ID (see --help)`)
  const path = `/v1/documents/${encodeURIComponent(id)}`
  switch (name) {
    case 'get':
      return { method: 'GET', path: options.meta ? `${path}?meta=1` : path }
    case 'delete':
      return { method: 'DELETE', path }
    case 'presence':
      return { method: 'GET', path: `${path}/presence` }
    case 'set':
      return { method: 'PATCH', path, body: change(options.json, options.delete, args.slice(1)) }
  }
}

/** The PATCH body: `--json` as given, or the FIELD=TEXT / FIELD:=JSON arguments and `--delete`. */
function change(
  json: string | undefined,
  deleted: string | undefined,
  assignments: readonly string[],
): unknown {
  if (json !== undefined) {
    if (assignments.length > 0 || deleted !== undefined) {
      throw new ConfigError('--json', 'Give --json alone, or FIELD=VALUE arguments and --delete')
    }
    try {
      return JSON.parse(json)
    } catch (error) {
      throw new ConfigError('--json', `Invalid --json: ${messageOf(error)}`)
    }
  }
  const set: Record<string, unknown> = {}
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=')
    if (eq <= 0 || (eq === 1 && assignment[0] === ':')) {
      throw new ConfigError(assignment, `Invalid "${assignment}": expected FIELD=TEXT or FIELD:=JSON`)
    }
    const isJson = assignment[eq - 1] === ':'
    const field = assignment.slice(0, isJson ? eq - 1 : eq)
    const text = assignment.slice(eq + 1)
    set[field] = isJson ? jsonValue(field, text) : text
  }
  const body: { set?: Record<string, unknown>; delete?: string[] } = {}
  if (assignments.length > 0) body.set = set
  if (deleted !== undefined) body.delete = deleted.split(',').map((field) => field.trim())
  if (body.set === undefined && body.delete === undefined) {
    throw new ConfigError(
      'FIELD',
      'Nothing to write: give FIELD=VALUE arguments, --delete or --json (see --help)',
    )
  }
  return body
}

function jsonValue(field: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new ConfigError(field, `Invalid JSON for ${field}:= "${text}" (quote text as FIELD=TEXT)`)
  }
}

interface Connection {
  url: string
  headers: Record<string, string>
}

function connection(io: CliIo, options: OptionValues<typeof CONNECTION>): Connection {
  const read = envReader(io.env)
  const url = options.url ?? read('SYNCKIT_URL') ?? DEFAULT_URL
  checkUrl(
    options.url === undefined ? 'SYNCKIT_URL' : '--url',
    url,
    ['http:', 'https:'],
    'an http:// or https:// URL',
  )
  const headers: Record<string, string> = { accept: 'application/json' }
  const token = options.token ?? read('SYNCKIT_TOKEN')
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const apiKey = options['api-key'] ?? read('SYNCKIT_API_KEY')
  if (apiKey !== undefined) headers['x-api-key'] = apiKey
  return { url: url.replace(/\/+$/, ''), headers }
}

/** Sends the call; the answer's JSON goes to stdout (success) or stderr (error, exit 1). */
async function send(io: CliIo, call: ApiCall, to: Connection): Promise<CommandResult> {
  const headers = { ...to.headers }
  if (call.body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  let text: string
  try {
    response = await fetch(`${to.url}${call.path}`, {
      method: call.method,
      headers,
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    text = await response.text()
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
    printJson(io.stderr, {
      error: { code: 'UNREACHABLE', message: `${to.url}: ${messageOf(error)}${cause}` },
    })
    return 1
  }
  if (response.status === 204) {
    printJson(io.stdout, { deleted: true })
    return 0
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    // Not the REST API (a proxy's page, or a server without it): said plainly, with the status.
    body = { error: { code: `HTTP_${response.status}`, message: text.slice(0, 500) || response.statusText } }
  }
  if (!response.ok) {
    printJson(io.stderr, body)
    return 1
  }
  printJson(io.stdout, body)
  return 0
}

function printJson(stream: CliIo['stdout'], value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`)
}

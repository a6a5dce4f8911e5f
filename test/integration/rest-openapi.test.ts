import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, apiKey, JSON_BODY, READER_KEY, startRestServer } from '../helpers/rest-server.js'

/**
 * GET /v1/openapi.json is a valid OpenAPI 3.1 document, and real responses of a real server,
 * successes and errors, match the schema it gives for their route, method and status.
 */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

type Json = Record<string, unknown>

let document: Json
beforeAll(async () => {
  const server = await startRestServer(cleanups)
  const response = await fetch(`${server.http}/v1/openapi.json`)
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('application/json')
  document = (await response.json()) as Json
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Described {
  /** The body's schema; undefined when it has no body. */
  schema: Json | undefined
  /** The headers the response is described with. */
  headers: string[]
}

/** A response as the document describes it. */
function describedResponse(template: string, method: string, status: number): Described {
  const paths = document.paths as Record<string, Record<string, Json>>
  const operation = paths[template]?.[method.toLowerCase()] as { responses: Record<string, Json> } | undefined
  // A method the route does not have has no operation to describe it: its 405 is the shared one.
  const responses =
    operation?.responses ??
    (status === 405 ? { '405': { $ref: '#/components/responses/MethodNotAllowed' } } : undefined)
  if (!responses) throw new Error(`${method} ${template} is not described`)
  let response = responses[String(status)]
  if (!response) throw new Error(`${method} ${template} does not describe status ${status}`)
  const ref = response.$ref
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/responses/', '')
    response = ((document.components as Json).responses as Record<string, Json>)[name] as Json
  }
  const content = response.content as Record<string, { schema?: Json }> | undefined
  return {
    schema: content?.['application/json']?.schema,
    headers: Object.keys((response.headers as Json | undefined) ?? {}),
  }
}

describe('GET /v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document describing every route', async () => {
    const validator = new Validator()
    const result = await validator.validate(document)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
    // The validator does refuse a broken description (a response without its description).
    const broken = structuredClone(document) as {
      paths: { '/v1/openapi.json': { get: { responses: Json } } }
    }
    broken.paths['/v1/openapi.json'].get.responses['200'] = { content: {} }
    expect((await new Validator().validate(broken)).valid).toBe(false)
    expect(Object.keys(document.paths as Json).sort()).toEqual([
      '/v1/documents',
      '/v1/documents/{id}',
      '/v1/documents/{id}/presence',
      '/v1/openapi.json',
    ])
    expect(Object.keys((document.components as Json).securitySchemes as Json).sort()).toEqual([
      'apiKey',
      'bearer',
    ])
  })

  it('describes the real responses of a running server, successes and errors', async () => {
    const server = await startRestServer(cleanups, { rest: { maxBodyBytes: 2048 } })
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    ajv.addSchema({ ...document, $id: 'openapi.json' })
    const checked: string[] = []

    async function check(
      method: string,
      path: string,
      template: string,
      expected: number,
      headers: Record<string, string> = {},
      body?: string,
    ): Promise<void> {
      const response = await fetch(`${server.http}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      })
      expect(response.status, `${method} ${path}`).toBe(expected)
      const { schema, headers: described } = describedResponse(template, method, response.status)
      for (const header of described)
        expect(response.headers.has(header), `${method} ${path} ${header}`).toBe(true)
      const text = await response.text()
      if (schema === undefined) {
        expect(text, `${method} ${path} has no body`).toBe('')
      } else {
        const validate = ajv.compile({ $ref: `openapi.json#${pointerTo(schema)}` })
        const ok = validate(JSON.parse(text))
        expect(validate.errors ?? [], `${method} ${path} ${response.status}: ${text}`).toEqual([])
        expect(ok).toBe(true)
      }
      checked.push(`${method} ${template} ${expected}`)
    }

    const admin = apiKey(ADMIN_KEY)
    const write = { ...admin, ...JSON_BODY }
    await check(
      'PATCH',
      '/v1/documents/doc:1',
      '/v1/documents/{id}',
      200,
      write,
      '{"set":{"a":{"b":[1,"x",null]},"c":true},"delete":["gone"]}',
    )
    await check('GET', '/v1/documents/doc:1', '/v1/documents/{id}', 200, admin)
    await check('GET', '/v1/documents/doc:1?meta=1', '/v1/documents/{id}', 200, admin)
    await check('GET', '/v1/documents?limit=1', '/v1/documents', 200, admin)
    await check('GET', '/v1/documents/doc:1/presence', '/v1/documents/{id}/presence', 200, admin)
    await check('DELETE', '/v1/documents/doc:1', '/v1/documents/{id}', 204, admin)
    await check('GET', '/v1/documents/doc:1', '/v1/documents/{id}', 404, admin)
    await check('GET', '/v1/documents/doc:1', '/v1/documents/{id}', 401)
    await check(
      'PATCH',
      '/v1/documents/doc:1',
      '/v1/documents/{id}',
      403,
      { ...apiKey(READER_KEY), ...JSON_BODY },
      '{"set":{"a":1}}',
    )
    await check('GET', '/v1/documents', '/v1/documents', 403, apiKey(READER_KEY))
    await check('PATCH', '/v1/documents/doc:1', '/v1/documents/{id}', 400, write, '{"set":')
    await check('GET', '/v1/documents/bad%20id', '/v1/documents/{id}', 400, admin)
    await check(
      'PATCH',
      '/v1/documents/doc:1',
      '/v1/documents/{id}',
      413,
      write,
      JSON.stringify({ set: { a: 'x'.repeat(3000) } }),
    )
    await check(
      'PATCH',
      '/v1/documents/doc:1',
      '/v1/documents/{id}',
      415,
      { ...admin, 'content-type': 'text/plain' },
      '{}',
    )
    await check('PUT', '/v1/documents/doc:1', '/v1/documents/{id}', 405, admin)
    await check('POST', '/v1/openapi.json', '/v1/openapi.json', 405)
    expect(checked).toHaveLength(16)
  })
})

/** The JSON pointer of `schema` inside the document (it is one of its own objects). */
function pointerTo(target: Json): string {
  const walk = (node: unknown, path: string): string | undefined => {
    if (node === target) return path
    if (typeof node !== 'object' || node === null) return undefined
    for (const [key, child] of Object.entries(node)) {
      const found = walk(child, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
      if (found !== undefined) return found
    }
    return undefined
  }
  const found = walk(document, '')
  if (found === undefined) throw new Error('schema not found in the document')
  return found
}

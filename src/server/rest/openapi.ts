import { VERSION } from '../version.js'

/**
 * The OpenAPI 3.1 description of the REST API, served at `GET /v1/openapi.json`. Kept beside the
 * routes; test/integration/rest-openapi.test.ts validates it against the OpenAPI schema and checks
 * real responses against its schemas, so a route and its description cannot drift apart.
 */

type Schema = Readonly<Record<string, unknown>>

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })
const errorRef = (name: string): Schema => ({ $ref: `#/components/responses/${name}` })

const DOCUMENT_ID: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: 256,
  pattern: '^[A-Za-z0-9_:-]+$',
  description: 'A document id: 1 to 256 characters of A-Z a-z 0-9 _ : - (percent-encode it in a path).',
}

const JSON_VALUE: Schema = {
  description: 'Any JSON value.',
  type: ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'],
}

const SCHEMAS: Readonly<Record<string, Schema>> = {
  DocumentId: DOCUMENT_ID,
  JsonValue: JSON_VALUE,
  VectorClock: {
    type: 'object',
    description: 'Per-node write counters of the document.',
    additionalProperties: { type: 'integer', minimum: 0 },
  },
  FieldMeta: {
    type: 'object',
    description: 'One register: its value (null for a tombstone), whether it is deleted, and its stamp.',
    required: ['value', 'deleted', 'updatedAt', 'nodeId'],
    properties: {
      value: JSON_VALUE,
      deleted: { type: 'boolean' },
      updatedAt: { type: 'number', description: 'Milliseconds since the epoch (hybrid logical clock).' },
      nodeId: { type: 'string', description: 'The server node that stamped the write.' },
    },
  },
  Document: {
    type: 'object',
    required: ['id', 'fields', 'clock'],
    properties: {
      id: ref('DocumentId'),
      fields: {
        type: 'object',
        description: 'The live fields (deleted ones are absent).',
        additionalProperties: ref('JsonValue'),
      },
      clock: ref('VectorClock'),
      meta: {
        type: 'object',
        description: 'With `meta=1`: every register, tombstones included.',
        additionalProperties: ref('FieldMeta'),
      },
    },
  },
  DocumentChange: {
    type: 'object',
    description: 'Fields to set and fields to delete; at least one of them, not both for one field.',
    additionalProperties: false,
    properties: {
      set: { type: 'object', additionalProperties: ref('JsonValue') },
      delete: { type: 'array', items: { type: 'string', minLength: 1 } },
    },
  },
  DocumentPage: {
    type: 'object',
    required: ['documents'],
    properties: {
      documents: { type: 'array', items: ref('DocumentId'), description: 'Ids in ascending byte order.' },
      next: { ...DOCUMENT_ID, description: 'Pass as `after` for the next page; absent on the last page.' },
    },
  },
  PresenceEntry: {
    type: 'object',
    required: ['clientId', 'state'],
    properties: {
      clientId: { type: 'string' },
      state: ref('JsonValue'),
      userId: { type: 'string' },
    },
  },
  Presence: {
    type: 'object',
    required: ['id', 'clients'],
    properties: { id: ref('DocumentId'), clients: { type: 'array', items: ref('PresenceEntry') } },
  },
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: {
            type: 'string',
            enum: [
              'INVALID_INPUT',
              'INVALID_JSON',
              'AUTH_REQUIRED',
              'AUTH_FAILED',
              'AUTH_UNAVAILABLE',
              'PERMISSION_DENIED',
              'ORIGIN_NOT_ALLOWED',
              'NOT_FOUND',
              'METHOD_NOT_ALLOWED',
              'PAYLOAD_TOO_LARGE',
              'QUOTA_EXCEEDED',
              'UNSUPPORTED_MEDIA_TYPE',
              'VALIDATION_FAILED',
              'INTERNAL',
              'NOT_SUPPORTED',
              'STORE_FAILED',
              'SHUTTING_DOWN',
            ],
          },
          message: { type: 'string' },
          details: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
}

const ERRORS: Readonly<Record<string, string>> = {
  BadRequest: 'Bad input: a document id, a query parameter or the body (INVALID_INPUT, INVALID_JSON).',
  Unauthorized: 'No credentials (AUTH_REQUIRED) or refused ones (AUTH_FAILED).',
  Forbidden: 'The policy refuses the action (PERMISSION_DENIED), or the Origin is not allowed.',
  NotFound: 'The document was never written, or was deleted (NOT_FOUND).',
  MethodNotAllowed: 'The route has no such method (METHOD_NOT_ALLOWED); `Allow` lists those it has.',
  PayloadTooLarge:
    'The body is larger than `rest.maxBodyBytes` (PAYLOAD_TOO_LARGE), or the write exceeds a document quota (QUOTA_EXCEEDED).',
  UnsupportedMediaType: 'The body is not `application/json` (UNSUPPORTED_MEDIA_TYPE).',
  Unprocessable: 'The `validate` option refused a value (VALIDATION_FAILED).',
  ServerError: 'A failure of the server (INTERNAL); it is logged.',
  NotImplemented: 'The store cannot list or delete documents (NOT_SUPPORTED).',
  Unavailable:
    'The store failed (STORE_FAILED), the server is shutting down (SHUTTING_DOWN), or the authentication hook failed (AUTH_UNAVAILABLE).',
}

/** Headers some refusals carry. */
const ERROR_HEADERS: Readonly<Record<string, Schema>> = {
  Unauthorized: {
    'WWW-Authenticate': {
      description:
        'RFC 6750 challenge: `Bearer realm="synckit"`, with `error="invalid_token"` for refused credentials.',
      schema: { type: 'string' },
    },
  },
  MethodNotAllowed: {
    Allow: { description: 'The methods the route has.', schema: { type: 'string' } },
  },
}

const errorResponse = (name: string, description: string): Schema => ({
  description,
  ...(ERROR_HEADERS[name] ? { headers: ERROR_HEADERS[name] } : {}),
  content: { 'application/json': { schema: ref('Error') } },
})

const ok = (description: string, schema: string): Schema => ({
  description,
  content: { 'application/json': { schema: ref(schema) } },
})

/** The errors every authenticated route can answer, by status. */
const COMMON_ERRORS: Readonly<Record<string, Schema>> = {
  '400': errorRef('BadRequest'),
  '401': errorRef('Unauthorized'),
  '403': errorRef('Forbidden'),
  '405': errorRef('MethodNotAllowed'),
  '500': errorRef('ServerError'),
  '503': errorRef('Unavailable'),
}

const ID_PARAMETER: Schema = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The document id, percent-encoded.',
  schema: ref('DocumentId'),
}

const SECURITY = [{ bearer: [] }, { apiKey: [] }]

/** The document (a fresh object each call: callers may change theirs). */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'synckit-engine REST API',
      version: VERSION,
      description:
        'Read and write the documents of a synckit-engine server over HTTP. Every write goes through ' +
        'the sync engine, so it is stamped, validated, persisted and echoed to WebSocket subscribers ' +
        'like a client write. See docs/rest.md.',
    },
    servers: [{ url: '/' }],
    security: SECURITY,
    paths: {
      '/v1/documents': {
        get: {
          operationId: 'listDocuments',
          summary: 'List document ids (admin)',
          parameters: [
            {
              name: 'prefix',
              in: 'query',
              description: 'Only ids starting with it.',
              schema: { type: 'string' },
            },
            {
              name: 'after',
              in: 'query',
              description: 'Only ids after it (the `next` of the previous page).',
              schema: { type: 'string' },
            },
            {
              name: 'limit',
              in: 'query',
              description: 'Page size.',
              schema: { type: 'integer', minimum: 1 },
            },
          ],
          responses: {
            '200': ok('A page of ids.', 'DocumentPage'),
            ...COMMON_ERRORS,
            '501': errorRef('NotImplemented'),
          },
        },
      },
      '/v1/documents/{id}': {
        parameters: [ID_PARAMETER],
        get: {
          operationId: 'getDocument',
          summary: 'Read a document',
          parameters: [
            {
              name: 'meta',
              in: 'query',
              description: 'With 1 (or true), also every register with its stamp, tombstones included.',
              schema: { type: 'string', enum: ['1', '0', 'true', 'false'] },
            },
          ],
          responses: {
            '200': ok('The document.', 'Document'),
            ...COMMON_ERRORS,
            '404': errorRef('NotFound'),
          },
        },
        patch: {
          operationId: 'updateDocument',
          summary: 'Set and delete fields (write)',
          description: 'Answered once the write is durable (the store committed it).',
          requestBody: { required: true, content: { 'application/json': { schema: ref('DocumentChange') } } },
          responses: {
            '200': ok('The document after the write.', 'Document'),
            ...COMMON_ERRORS,
            '413': errorRef('PayloadTooLarge'),
            '415': errorRef('UnsupportedMediaType'),
            '422': errorRef('Unprocessable'),
          },
        },
        delete: {
          operationId: 'deleteDocument',
          summary: 'Delete a document (admin)',
          description:
            'Removed from the store and from every node; its subscribers are told and unsubscribed.',
          responses: {
            '204': { description: 'Deleted.' },
            ...COMMON_ERRORS,
            '404': errorRef('NotFound'),
            '501': errorRef('NotImplemented'),
          },
        },
      },
      '/v1/documents/{id}/presence': {
        parameters: [ID_PARAMETER],
        get: {
          operationId: 'getPresence',
          summary: 'The clients present on a document (read)',
          responses: { '200': ok('The present clients.', 'Presence'), ...COMMON_ERRORS },
        },
      },
      '/v1/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          security: [],
          responses: {
            '200': { description: 'The OpenAPI document.', content: { 'application/json': {} } },
            '405': errorRef('MethodNotAllowed'),
          },
        },
      },
    },
    components: {
      schemas: SCHEMAS,
      responses: Object.fromEntries(
        Object.entries(ERRORS).map(([name, text]) => [name, errorResponse(name, text)]),
      ),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT, as on the WebSocket.',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'An API key (`auth.apiKeys`).',
        },
      },
    },
  }
}

/** The OpenAPI 3.1 document of center's API, generated from the route table. */
import { ERROR_KINDS } from '../common/errors.js';
import type { Route } from './routes.js';
import { toJsonSchema } from './validate.js';

export function buildOpenApi(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{([a-zA-Z]+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(r.open ? { security: [] } : {}),
      ...(r.privilege ? { 'x-privilege': r.privilege } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toJsonSchema(r.body) } },
            },
          }
        : {}),
      responses: {
        [String(r.status ?? 200)]: { description: 'ok', content: { 'application/json': {} } },
        default: {
          description: 'error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'cryptvisor center', version: '1' },
    paths,
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
    'x-error-kinds': ERROR_KINDS,
  };
}

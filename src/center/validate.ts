/** Request-body validation: each field has a type and limits; unknown fields are refused. */
import { CenterError } from './errors.js';

export type Body = Readonly<Record<string, unknown>>;

export interface FieldRule {
  readonly type: 'string' | 'number' | 'boolean';
  readonly required?: boolean;
  readonly pattern?: RegExp;
  readonly oneOf?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

export type BodySchema = Readonly<Record<string, FieldRule>>;

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function check(name: string, rule: FieldRule, v: unknown): void {
  const bad = (what: string): never => {
    throw new CenterError('invalid_request', `"${name}" ${what}`);
  };
  if (rule.type === 'string') {
    if (typeof v !== 'string') bad('must be a string');
    const s = v as string;
    if (s.length < (rule.min ?? 1) || s.length > (rule.max ?? 1024))
      bad(`must be ${rule.min ?? 1} to ${rule.max ?? 1024} characters`);
    if (rule.pattern && !rule.pattern.test(s)) bad('has characters that are not allowed');
    if (rule.oneOf && !rule.oneOf.includes(s)) bad(`must be one of ${rule.oneOf.join(', ')}`);
  } else if (rule.type === 'number') {
    if (typeof v !== 'number' || !Number.isInteger(v)) bad('must be an integer');
    if (
      (rule.min !== undefined && (v as number) < rule.min) ||
      (rule.max !== undefined && (v as number) > rule.max)
    )
      bad(`must be between ${rule.min} and ${rule.max}`);
  } else if (typeof v !== 'boolean') bad('must be true or false');
}

/** Checks body against schema and returns it typed as T. */
export function validateBody<T>(body: Body, schema: BodySchema): T {
  for (const key of Object.keys(body))
    if (!(key in schema)) throw new CenterError('invalid_request', `unknown field "${key}"`);
  for (const [name, rule] of Object.entries(schema)) {
    const v = body[name];
    if (v === undefined || v === null) {
      if (rule.required) throw new CenterError('invalid_request', `"${name}" is required`);
      continue;
    }
    check(name, rule, v);
  }
  return body as T;
}

/** The OpenAPI form of a body schema. */
export function toJsonSchema(schema: BodySchema): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(schema)) {
    properties[name] = {
      type: r.type === 'number' ? 'integer' : r.type,
      ...(r.oneOf ? { enum: r.oneOf } : {}),
      ...(r.pattern ? { pattern: r.pattern.source } : {}),
      ...(r.type === 'string' ? { minLength: r.min ?? 1, maxLength: r.max ?? 1024 } : {}),
      ...(r.type === 'number' && r.min !== undefined ? { minimum: r.min } : {}),
      ...(r.type === 'number' && r.max !== undefined ? { maximum: r.max } : {}),
    };
  }
  const required = Object.entries(schema)
    .filter(([, r]) => r.required)
    .map(([n]) => n);
  return {
    type: 'object',
    additionalProperties: false,
    properties,
    ...(required.length ? { required } : {}),
  };
}

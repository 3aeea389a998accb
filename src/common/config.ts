import { readFileSync } from 'node:fs';
import { CommonError } from './errors.js';

/**
 * A small config schema: each field has a type, an optional default, an optional environment
 * variable, and an optional check. loadConfig merges defaults < file < env, validates, and
 * deep-freezes the result. Only main.ts passes process.env in.
 */
export type FieldType = 'string' | 'number' | 'boolean' | 'string[]';

export interface FieldSpec {
  readonly type: FieldType;
  readonly default?: unknown;
  readonly env?: string;
  readonly required?: boolean;
  readonly check?: (value: unknown) => string | undefined;
}

export type Schema = Readonly<Record<string, FieldSpec>>;

export interface LoadConfigOptions {
  readonly schema: Schema;
  readonly file?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly overrides?: Readonly<Record<string, unknown>>;
}

function fromEnv(spec: FieldSpec, raw: string, name: string): unknown {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'number': {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new CommonError('config_invalid', `config: ${name} must be a number`);
      return n;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new CommonError('config_invalid', `config: ${name} must be true or false`);
    case 'string[]':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
  }
}

function typeOk(spec: FieldSpec, v: unknown): boolean {
  switch (spec.type) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
  }
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CommonError('file_not_found', `config file ${file} cannot be read`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CommonError('config_invalid', `config file ${file} is not valid JSON`, { cause: err });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CommonError('config_invalid', `config file ${file} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

export function loadConfig<T>(opts: LoadConfigOptions): Readonly<T> {
  const fileValues = opts.file ? readConfigFile(opts.file) : {};
  for (const k of Object.keys(fileValues)) {
    if (!(k in opts.schema)) throw new CommonError('config_invalid', `config: unknown field "${k}"`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(opts.schema)) {
    let v: unknown = spec.default;
    if (name in fileValues) v = fileValues[name];
    const envRaw = spec.env ? opts.env?.[spec.env] : undefined;
    if (envRaw !== undefined && envRaw !== '') v = fromEnv(spec, envRaw, spec.env ?? name);
    if (opts.overrides && opts.overrides[name] !== undefined) v = opts.overrides[name];
    if (v === undefined) {
      if (spec.required) throw new CommonError('config_invalid', `config: ${name} is required`);
      continue;
    }
    if (!typeOk(spec, v)) throw new CommonError('config_invalid', `config: ${name} must be of type ${spec.type}`);
    const problem = spec.check?.(v);
    if (problem) throw new CommonError('config_invalid', `config: ${name} ${problem}`);
    out[name] = Array.isArray(v) ? [...(v as unknown[])] : v;
  }
  return deepFreeze(out) as Readonly<T>;
}

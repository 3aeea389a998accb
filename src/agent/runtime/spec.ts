/** The runtime part of a VM create request (`runtime` in POST /api/v1/vms), checked field by field. */
import { isAbsolute } from 'node:path';
import { AgentError } from '../errors.js';
import type { VmRuntimeSpec } from '../datastore.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const MAX_MEMORY_MIB = 1024 * 1024;
const MAX_CPUS = 256;
const MAX_APPEND = 4096;

function bad(message: string): AgentError {
  return new AgentError('invalid_request', `runtime: ${message}`);
}

/** Undefined when absent; otherwise a partial spec (the agent fills the defaults). */
export function parseRuntimeSpec(value: unknown): Partial<VmRuntimeSpec> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw bad('must be an object');
  const v = value as Record<string, unknown>;
  const out: Partial<Mutable<VmRuntimeSpec>> = {};
  for (const key of Object.keys(v)) {
    if (!['memoryMiB', 'cpus', 'qemu', 'kernel', 'initrd', 'append'].includes(key)) throw bad(`unknown field "${key}"`);
  }
  const int = (k: 'memoryMiB' | 'cpus', max: number): void => {
    const x = v[k];
    if (x === undefined) return;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > max) throw bad(`"${k}" must be an integer from 1 to ${max}`);
    out[k] = x;
  };
  int('memoryMiB', MAX_MEMORY_MIB);
  int('cpus', MAX_CPUS);
  if (v['qemu'] !== undefined) {
    if (typeof v['qemu'] !== 'boolean') throw bad('"qemu" must be true or false');
    out.qemu = v['qemu'];
  }
  for (const k of ['kernel', 'initrd'] as const) {
    const x = v[k];
    if (x === undefined) continue;
    if (typeof x !== 'string' || !isAbsolute(x) || x.includes(',') || x.length > 4096) throw bad(`"${k}" must be an absolute path without commas`);
    out[k] = x;
  }
  const append = v['append'];
  if (append !== undefined) {
    if (typeof append !== 'string' || append.length > MAX_APPEND || /[\0\n]/.test(append)) throw bad(`"append" must be one line of at most ${MAX_APPEND} characters`);
    out.append = append;
  }
  if (out.qemu && !out.kernel) throw bad('"qemu": true needs "kernel" (direct kernel boot)');
  return out;
}

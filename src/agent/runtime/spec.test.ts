import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../errors.js';
import { parseRuntimeSpec } from './spec.js';

const code = (v: unknown): string => {
  try {
    parseRuntimeSpec(v);
  } catch (err) {
    assert.ok(err instanceof AgentError);
    return err.code;
  }
  return 'accepted';
};

test('a runtime spec is checked field by field', () => {
  assert.equal(parseRuntimeSpec(undefined), undefined);
  assert.deepEqual(parseRuntimeSpec({ qemu: true, kernel: '/k', initrd: '/i', append: 'console=ttyS0', memoryMiB: 96, cpus: 2 }), {
    qemu: true,
    kernel: '/k',
    initrd: '/i',
    append: 'console=ttyS0',
    memoryMiB: 96,
    cpus: 2,
  });
  assert.deepEqual(parseRuntimeSpec({ memoryMiB: 512 }), { memoryMiB: 512 });
  for (const bad of [
    [],
    'qemu',
    { qemu: 'yes' },
    { qemu: true },
    { kernel: 'relative/vmlinuz' },
    { kernel: '/a,b' },
    { memoryMiB: 0 },
    { memoryMiB: 1.5 },
    { cpus: 1000 },
    { append: 'a\nb' },
    { extra: 1 },
  ]) {
    assert.equal(code(bad), 'invalid_request', JSON.stringify(bad));
  }
});

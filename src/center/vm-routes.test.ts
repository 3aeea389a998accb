import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CenterError } from './errors.js';
import { runtimeSpec } from './vm-routes.js';

test('runtimeSpec: no runtime fields is no runtime; the given fields pass through as the agent spec', () => {
  assert.equal(runtimeSpec({}), null);
  assert.deepEqual(runtimeSpec({ qemu: true, kernel: '/k', memoryMiB: 96 }), {
    qemu: true,
    kernel: '/k',
    memoryMiB: 96,
  });
  assert.deepEqual(
    runtimeSpec({ qemu: true, kernel: '/k', initrd: '/i', append: 'console=ttyS0', cpus: 2 }),
    { qemu: true, kernel: '/k', initrd: '/i', append: 'console=ttyS0', cpus: 2 },
  );
});

test('runtimeSpec: runtime fields need qemu true, and qemu needs a kernel', () => {
  const refused = (b: Parameters<typeof runtimeSpec>[0], message: RegExp): void =>
    assert.throws(
      () => runtimeSpec(b),
      (e: unknown) => e instanceof CenterError && e.code === 'invalid_request' && message.test(e.message),
    );
  refused({ kernel: '/k' }, /\("kernel"\) need "qemu": true/);
  refused({ qemu: false, kernel: '/k', cpus: 1 }, /\("qemu", "kernel", "cpus"\) need "qemu": true/);
  refused({ qemu: true }, /needs "kernel"/);
  refused({ qemu: true, initrd: '/i' }, /needs "kernel"/);
});

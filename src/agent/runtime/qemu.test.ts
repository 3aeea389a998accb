import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../errors.js';
import { qemuArgs, type QemuStartOptions } from './qemu.js';

const base: QemuStartOptions = {
  name: 'vm1',
  spec: { memoryMiB: 128, cpus: 1, qemu: true, kernel: '/g/vmlinuz', initrd: '/g/initrd.img', append: 'console=ttyS0 quiet' },
  drives: ['/run/s/disk-0.sock', '/run/s/nvram.sock'],
  sockDir: '/run/s',
  consoleLog: '/ds/vm1/console.log',
};

test('QEMU boots the kernel directly on the NBD sockets, TCG without KVM, RAM never file-backed', () => {
  const args = qemuArgs(base, '/run/s/qmp.sock', false);
  const after = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1] as string] : []));
  assert.deepEqual(after('-accel'), ['tcg']);
  assert.deepEqual(after('-kernel'), ['/g/vmlinuz']);
  assert.deepEqual(after('-initrd'), ['/g/initrd.img']);
  assert.deepEqual(after('-append'), ['console=ttyS0 quiet']);
  assert.deepEqual(after('-m'), ['128']);
  assert.deepEqual(after('-blockdev'), [
    'driver=nbd,node-name=nbd0,server.type=unix,server.path=/run/s/disk-0.sock,export=',
    'driver=nbd,node-name=nbd1,server.type=unix,server.path=/run/s/nvram.sock,export=',
  ]);
  assert.deepEqual(after('-device'), ['virtio-blk-pci,drive=nbd0', 'virtio-blk-pci,drive=nbd1']);
  assert.deepEqual(after('-qmp'), ['unix:/run/s/qmp.sock,server=on,wait=off']);
  assert.deepEqual(after('-incoming'), []);
  assert.ok(!args.some((a) => a.includes('memory-backend-file') || a.includes('mem-path')));
  assert.deepEqual(after('-accel').length, 1);
  assert.deepEqual(qemuArgs(base, '/q', true)[qemuArgs(base, '/q', true).indexOf('-accel') + 1], 'kvm');
  const resume = qemuArgs({ ...base, incoming: '/run/s/incoming.sock' }, '/q', false);
  assert.equal(resume[resume.indexOf('-incoming') + 1], 'unix:/run/s/incoming.sock');
});

test('the QEMU runtime needs a kernel', () => {
  const { kernel: _k, ...spec } = base.spec;
  assert.throws(() => qemuArgs({ ...base, spec }, '/q', false), (e: unknown) => e instanceof AgentError && e.code === 'invalid_request');
});

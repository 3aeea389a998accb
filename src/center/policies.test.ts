import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectivePolicy } from './policies.js';

const A = [
  { kind: 'folder' as const, target: 'prod', policy: 'gold' },
  { kind: 'tag' as const, target: 'db', policy: 'team' },
  { kind: 'tag' as const, target: 'linux', policy: 'team' },
  { kind: 'tag' as const, target: 'pci', policy: 'strict' },
];

test("a VM's own policy wins, then its folder's, then its tags'", () => {
  assert.deepEqual(effectivePolicy('own', { folder: 'prod', tags: ['db'] }, A), { policy: 'own', via: 'vm', conflict: null });
  assert.deepEqual(effectivePolicy(null, { folder: 'prod', tags: ['db'] }, A), { policy: 'gold', via: 'folder', conflict: null });
  assert.deepEqual(effectivePolicy(null, { folder: 'dev', tags: ['db', 'linux', 'x'] }, A), {
    policy: 'team',
    via: 'tag',
    conflict: null,
  });
  assert.deepEqual(effectivePolicy(null, undefined, A), { policy: null, via: null, conflict: null });
  assert.deepEqual(effectivePolicy(null, { folder: null, tags: ['x'] }, A), { policy: null, via: null, conflict: null });
});

test('tags that assign different policies are a conflict, not a choice', () => {
  const r = effectivePolicy(null, { folder: null, tags: ['db', 'pci'] }, A);
  assert.equal(r.policy, null);
  assert.match(r.conflict ?? '', /db → team, pci → strict/);
});

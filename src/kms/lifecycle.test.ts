import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activate, advanceByDates, destroy, initialState, revoke, maySetDate, type LifecycleState } from './lifecycle.js';

const V14 = { major: 1, minor: 4 };
const V21 = { major: 2, minor: 1 };
const NOW = 1_000_000n;

test('lifecycle: create, activate, revoke, destroy with their dates', () => {
  const init = initialState(NOW, {});
  assert.equal(init.state, 'PreActive');
  assert.equal(init.dates.initialDate, NOW);
  const a = activate(init.state, init.dates, NOW + 1n, V14);
  assert.ok(a.ok);
  assert.equal(a.state, 'Active');
  assert.equal(a.dates.activationDate, NOW + 1n);
  const r = revoke(a.state, a.dates, 'CessationOfOperation', undefined, NOW + 2n, V14);
  assert.ok(r.ok);
  assert.equal(r.state, 'Deactivated');
  assert.equal(r.dates.deactivationDate, NOW + 2n);
  const d = destroy(r.state, r.dates, NOW + 3n, V14);
  assert.ok(d.ok);
  assert.equal(d.state, 'Destroyed');
  assert.equal(d.dates.destroyDate, NOW + 3n);
  const c = revoke(d.state, d.dates, 'KeyCompromise', 5n, NOW + 4n, V14);
  assert.ok(c.ok);
  assert.equal(c.state, 'DestroyedCompromised');
  assert.equal(c.dates.compromiseOccurrenceDate, 5n);
  assert.equal(c.dates.compromiseDate, NOW + 4n);
});

test('lifecycle: destroying an Active object is refused with the reason of the version', () => {
  const a = destroy('Active', {}, NOW, V14);
  assert.deepEqual(a.ok ? null : a.reason, 'permission_denied');
  const b = destroy('Active', {}, NOW, V21);
  assert.deepEqual(b.ok ? null : b.reason, 'wrong_key_lifecycle_state');
});

test('lifecycle: every transition from every state', () => {
  const states: LifecycleState[] = ['PreActive', 'Active', 'Deactivated', 'Compromised', 'Destroyed', 'DestroyedCompromised'];
  const table = states.map((s) => {
    const act = activate(s, {}, NOW, V14);
    const rev = revoke(s, {}, 'Unspecified', undefined, NOW, V14);
    const comp = revoke(s, {}, 'KeyCompromise', undefined, NOW, V14);
    const des = destroy(s, {}, NOW, V14);
    const f = (t: { ok: boolean; state?: string }) => (t.ok ? t.state : '-');
    return [s, f(act), f(rev), f(comp), f(des)].join(' ');
  });
  assert.deepEqual(table, [
    'PreActive Active - Compromised Destroyed',
    'Active - Deactivated Compromised -',
    'Deactivated - - Compromised Destroyed',
    'Compromised - - - DestroyedCompromised',
    'Destroyed - - DestroyedCompromised -',
    'DestroyedCompromised - - - -',
  ]);
});

test('lifecycle: dates drive the state', () => {
  assert.equal(initialState(NOW, { activationDate: NOW - 1n }).state, 'Active');
  assert.equal(initialState(NOW, { activationDate: NOW + 10n }).state, 'PreActive');
  assert.equal(advanceByDates('PreActive', { activationDate: NOW + 10n }, NOW + 10n), 'Active');
  assert.equal(advanceByDates('Active', { deactivationDate: NOW }, NOW), 'Deactivated');
  assert.equal(advanceByDates('PreActive', { activationDate: 1n, deactivationDate: 2n }, NOW), 'Deactivated');
  assert.equal(maySetDate('activationDate', 'Active'), false);
  assert.equal(maySetDate('activationDate', 'PreActive'), true);
  assert.equal(maySetDate('deactivationDate', 'Active'), true);
  assert.equal(maySetDate('initialDate', 'PreActive'), false);
});

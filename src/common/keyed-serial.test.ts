import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedSerial } from './keyed-serial.js';

test('tasks of one key run one after another, even after a failure; other keys run alongside', async () => {
  const q = new KeyedSerial();
  const log: string[] = [];
  const step = (name: string, fail = false) => async (): Promise<string> => {
    log.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, 5));
    log.push(`end ${name}`);
    if (fail) throw new Error(name);
    return name;
  };
  const a1 = q.run('a', step('a1', true));
  const a2 = q.run('a', step('a2'));
  const b1 = q.run('b', step('b1'));
  await assert.rejects(a1, /a1/);
  assert.equal(await a2, 'a2');
  assert.equal(await b1, 'b1');
  assert.ok(log.indexOf('end a1') < log.indexOf('start a2'), log.join(', '));
  assert.ok(log.indexOf('start b1') < log.indexOf('end a1'), log.join(', '));
});

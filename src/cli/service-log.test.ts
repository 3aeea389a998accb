import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, renderLogLine } from './service-log.js';

test('renderLogLine: a pino record becomes one tagged, readable line', () => {
  const line = JSON.stringify({
    level: 30,
    time: '2026-11-30T02:41:03.123Z',
    service: 'center',
    pid: 7,
    msg: 'host key pushed',
    host: 'host-1',
    n: 2,
  });
  assert.equal(renderLogLine('center', line), '[center] 02:41:03 INFO host key pushed host=host-1 n=2');
  const warn = JSON.stringify({
    level: 40,
    time: '2026-11-30T02:41:04.000Z',
    msg: 'heartbeat failed',
    error: 'connect ECONNREFUSED',
  });
  assert.equal(
    renderLogLine('center', warn),
    '[center] 02:41:04 WARN heartbeat failed error="connect ECONNREFUSED"',
  );
});

test('renderLogLine: plain text and broken JSON are tagged as they are', () => {
  assert.equal(
    renderLogLine('kms', 'KMIP listening on 127.0.0.1:5696'),
    '[kms] KMIP listening on 127.0.0.1:5696',
  );
  assert.equal(renderLogLine('kms', '{not json'), '[kms] {not json');
  assert.equal(renderLogLine('kms', '[1,2]'), '[kms] [1,2]');
});

test('LineSplitter: lines across chunks, CRLF, and a last line without newline', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('ab'), []);
  assert.deepEqual(s.push('c\r\nde\nf'), ['abc', 'de']);
  assert.deepEqual(s.flush(), ['f']);
  assert.deepEqual(s.flush(), []);
});

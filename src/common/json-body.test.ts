import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { readJsonObject, type JsonBodyFailure } from './json-body.js';

const req = (...chunks: string[]): IncomingMessage =>
  Readable.from(chunks.map((c) => Buffer.from(c))) as unknown as IncomingMessage;

class Failed extends Error {
  constructor(readonly code: JsonBodyFailure, message: string) {
    super(message);
  }
}
const fail = (code: JsonBodyFailure, message: string): Error => new Failed(code, message);

test('a JSON object body is read across chunks; an empty body is {}', async () => {
  assert.deepEqual(await readJsonObject(req('{"a":', '1,"b":"x"}'), 100, fail), { a: 1, b: 'x' });
  assert.deepEqual(await readJsonObject(req(), 100, fail), {});
});

test('bodies over the limit, malformed JSON and non-objects get the caller\'s errors', async () => {
  await assert.rejects(readJsonObject(req('{"a":"', 'x'.repeat(200), '"}'), 100, fail), { code: 'body_too_large' });
  for (const bad of ['{', '[1,2]', 'null', '"s"', '12'])
    await assert.rejects(readJsonObject(req(bad), 100, fail), { code: 'invalid_request' }, bad);
});

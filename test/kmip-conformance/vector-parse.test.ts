/**
 * Every in-scope vector parses: the file splits into request/response pairs, and each request
 * (placeholders resolved) and each expected response (sentinels in place) goes through the
 * library's xmlToTtlv. No server needed; a failure here names the file and the exchange.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tag, xmlToTtlv } from '../../src/kmip/index.js';
import { Bindings, resolveExpected, resolveRequest } from './placeholders.js';
import { loadVectorFiles, parseVectorName } from './vector-file.js';

test('vector file names give profile and version', () => {
  assert.deepEqual(parseVectorName('SKLC-M-1-14'), { profile: 'SKLC-M', version: '1.4' });
  assert.deepEqual(parseVectorName('TC-Q-CAP-2-14'), { profile: 'TC-Q-CAP', version: '1.4' });
  assert.deepEqual(parseVectorName('MSGENC-JSON-M-1-21'), { profile: 'MSGENC-JSON-M', version: '2.1' });
});

test('placeholders: $NOW±N in requests, identifiers bound once, sentinels in expected responses', () => {
  const b = new Bindings();
  assert.equal(b.bind('$UNIQUE_IDENTIFIER_0', 'abc'), undefined);
  assert.equal(b.bind('$UNIQUE_IDENTIFIER_0', 'abc'), undefined);
  assert.match(b.bind('$UNIQUE_IDENTIFIER_0', 'xyz') ?? '', /expected/);
  assert.match(b.bind('$UNIQUE_IDENTIFIER_1', 'abc') ?? '', /already bound/);
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  const req = resolveRequest('<A type="DateTime" value="$NOW-3600"/><U type="TextString" value="$UNIQUE_IDENTIFIER_0"/>', b, now);
  assert.equal(req, '<A type="DateTime" value="2026-01-02T02:04:05+00:00"/><U type="TextString" value="abc"/>');
  assert.throws(() => resolveRequest('<U type="TextString" value="$UNIQUE_IDENTIFIER_7"/>', b), /no earlier response bound/);
  const exp = resolveExpected('<K type="ByteString" value="$KEY_MATERIAL"/><T type="DateTime" value="$NOW"/>');
  assert.doesNotMatch(exp, /\$/);
});

test('every in-scope vector parses with xmlToTtlv', () => {
  const files = loadVectorFiles();
  assert.equal(files.length, 230);
  const problems: string[] = [];
  let exchanges = 0;
  for (const f of files) {
    const b = new Bindings();
    for (const ex of f.exchanges) {
      exchanges++;
      // Bind each identifier to a stand-in so later requests resolve.
      for (const m of ex.response.matchAll(/\$UNIQUE_IDENTIFIER_(\d+)/g)) b.bind(m[0], `id-${m[1]}`);
      for (const [kind, xml] of [
        ['request', () => resolveRequest(ex.request, b)],
        ['response', () => resolveExpected(ex.response)],
      ] as const) {
        try {
          const item = xmlToTtlv(xml());
          assert.equal(item.tag, kind === 'request' ? Tag.RequestMessage : Tag.ResponseMessage);
        } catch (err) {
          problems.push(`${f.path} exchange ${ex.index} ${kind}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }
  assert.ok(exchanges > 1000);
  assert.deepEqual(problems, []);
});

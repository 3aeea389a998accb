// Every KmipClientError code is documented in docs/kmip-client.md with its kind, and the failover
// set is what the docs say; a KmipOperationError is a KmipError with the Result Reason's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  FAILOVER_CODES,
  KMIP_CLIENT_ERROR_CODES,
  KmipClientError,
  KmipOperationError,
  type KmipClientErrorCode,
} from './client-errors.js';
import { KmipError } from './errors.js';
import { ResultReason } from './enums.js';

test('every client error code is in the table of docs/kmip-client.md with its kind and failover', () => {
  const doc = readFileSync(new URL('../../../docs/kmip-client.md', import.meta.url), 'utf8');
  for (const [code, info] of Object.entries(KMIP_CLIENT_ERROR_CODES)) {
    const failover = FAILOVER_CODES.has(code as KmipClientErrorCode) ? 'yes' : 'no';
    assert.match(doc, new RegExp(`\\| \`${code}\` +\\| ${info.kind} +\\| [^|]+\\| ${failover} +\\|`), code);
  }
});

test('a KmipClientError carries its code and kind, and its public form leaves the cause out', () => {
  for (const code of Object.keys(KMIP_CLIENT_ERROR_CODES) as KmipClientErrorCode[]) {
    const e = new KmipClientError(code, 'msg', { cause: new Error('inner detail') });
    assert.equal(e.code, code);
    assert.equal(e.kind, KMIP_CLIENT_ERROR_CODES[code].kind);
    assert.deepEqual(e.toJSON(), { code, message: 'msg' });
  }
});

test('a KmipOperationError is the KmipError of its Result Reason', () => {
  const e = new KmipOperationError({
    operation: 'Get',
    resultStatus: 'OperationFailed',
    resultReason: ResultReason.ItemNotFound,
    resultMessage: 'no such object',
  });
  assert.ok(e instanceof KmipError);
  assert.equal(e.code, 'item_not_found');
  assert.equal(e.kind, 'not_found');
  assert.equal(e.resultReason, ResultReason.ItemNotFound);
  assert.equal(e.message, 'KMIP Get failed (OperationFailed, ItemNotFound): no such object');
  const long = new KmipOperationError({
    operation: 'Get',
    resultStatus: 'OperationFailed',
    resultMessage: 'x'.repeat(5000),
  });
  assert.equal(long.code, 'general_failure');
  assert.ok(long.message.length < 400, 'a long server message is cut');
});

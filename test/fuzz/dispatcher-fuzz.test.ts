/**
 * Fuzzing the KMS in process (issue 2, "Bad input"): 100,000 mutated messages, fixed seed, through
 * the decoder and the dispatcher of a real KMS (SQLite store, root key) built by startKms, driven
 * through `service.handleBytes` without the network. Every mutant gets a well-formed
 * ResponseMessage (a KMIP error where it must), no exception escapes, no call hangs; the KMS
 * answers a valid request afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Tag, child, decodeTtlv, encodeTtlv } from '../../src/kmip/index.js';
import type { Identity } from '../../src/kms/index.js';
import { startTestKms, type KmsUnderTest } from '../kmip-conformance/kms-under-test.js';
import { Operation, createAesPayload1x, requestMessage, responseItems, successPayload, textOf } from '../kmip-conformance/messages.js';
import { Prng, mutate } from './mutate.js';
import { seedMessages } from './seeds.js';

const SEED = 0x5eed2026;
const COUNT = Number(process.env['CRYPTVISOR_FUZZ_COUNT'] ?? '100000');
const CALL_TIMEOUT_MS = 5000;
const IN_FLIGHT = 16;
const who: Identity = { subject: 'CN=fuzz-in-process', admin: false };

let kms: KmsUnderTest;

before(async () => {
  kms = await startTestKms(existsSync('/dev/shm') ? { parentDir: '/dev/shm' } : {});
});

after(async () => {
  await kms?.close();
});

function withTimeout<T>(p: Promise<T>, i: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`mutant ${i}: no answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
    }),
  ]);
}

async function createKey(): Promise<string> {
  const res = await kms.service.handleBytes(encodeTtlv(requestMessage([1, 1], [{ operation: Operation.Create, payload: createAesPayload1x(256) }])), who);
  const uid = textOf(child(successPayload(decodeTtlv(res)), Tag.UniqueIdentifier));
  assert.ok(uid);
  return uid;
}

test(`dispatcher: ${COUNT} mutated messages (seed 0x${SEED.toString(16)}) each get a KMIP response`, { timeout: 180_000 }, async () => {
  // The seeds name a real object of this identity, so mutants reach the operations, not only parsing.
  const seeds = seedMessages(await createKey());
  const rng = new Prng(SEED);
  const mutants = Array.from({ length: COUNT }, () => mutate(rng, seeds));
  let failedItems = 0;
  let succeededItems = 0;
  // A few messages in flight at once, as from concurrent connections; each is checked on its own.
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < COUNT; i = next++) {
      const m = mutants[i]!;
      let res: Buffer;
      try {
        res = await withTimeout(kms.service.handleBytes(m.bytes, who), i);
      } catch (err) {
        assert.fail(`mutant ${i} (${m.mutations.join('+')}): ${String(err)}\n${m.bytes.toString('hex').slice(0, 400)}`);
      }
      const msg = decodeTtlv(res);
      assert.equal(msg.tag, Tag.ResponseMessage, `mutant ${i}: the answer is not a ResponseMessage`);
      for (const it of responseItems(msg)) {
        assert.notEqual(it.status, undefined, `mutant ${i}: a batch item without ResultStatus`);
        if (it.status === 0) succeededItems++;
        else failedItems++;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  assert.ok(failedItems > COUNT / 4, `only ${failedItems} failed items: the mutants are too tame`);
  assert.ok(succeededItems > 100, `only ${succeededItems} succeeded items: the mutants never reach the operations`);
  // Still serving.
  assert.ok((await createKey()).length > 0);
});

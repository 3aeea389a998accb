/**
 * Fuzzing and bad input over the wire (issue 2, "Bad input"): 2,000 mutated messages over mutual
 * TLS to a running KMS (fixed seed), then the named cases: garbage, truncated, a length field over
 * the limit, no client certificate, a certificate from another CA. Each gets a KMIP error response
 * or a clean close, never a hang; the server answers a valid request afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Operation, QueryFunction, Tag, child, decodeTtlv, encodeTtlv, enumItem } from '../../src/kmip/index.js';
import { initCa, issueCertificate } from '../../src/common/pki.js';
import { identityFromFiles } from '../kmip-conformance/identities.js';
import { startTestKms, type KmsUnderTest } from '../kmip-conformance/kms-under-test.js';
import { requestMessage, responseItems } from '../kmip-conformance/messages.js';
import { TtlvSocket, type TlsIdentity } from '../kmip-conformance/ttlv-socket.js';
import { Prng, mutate } from './mutate.js';
import { seedMessages } from './seeds.js';

const SEED = 0x7e1f022;
const COUNT = 2000;
const CONCURRENCY = 8;
/** The KMS default maximum message size. */
const MAX_MESSAGE = 1024 * 1024;
const ANSWER_TIMEOUT_MS = 5000;

let kms: KmsUnderTest;
let client: TlsIdentity;

before(async () => {
  kms = await startTestKms();
  client = await kms.identities.issue('tls-fuzz');
});

after(async () => {
  await kms?.close();
});

const QUERY = encodeTtlv(
  requestMessage([1, 4], [{ operation: Operation.Query, payload: [enumItem(Tag.QueryFunction, QueryFunction.QueryServerInformation)] }]),
);

/** The server still answers a valid request on a new connection. */
async function stillServes(): Promise<void> {
  const s = await TtlvSocket.open(kms.port, client);
  try {
    const items = responseItems(decodeTtlv(await s.roundTrip(QUERY)));
    assert.equal(items[0]?.status, 0, 'Query failed');
  } finally {
    s.close();
  }
}

type Outcome = 'answered' | 'closed';

/**
 * Sends bytes and waits for one response or a close. A response must be a decodable
 * ResponseMessage with a ResultStatus on every batch item.
 */
async function exchange(s: TtlvSocket, bytes: Uint8Array, endAfter: boolean): Promise<Outcome> {
  s.send(bytes);
  if (endAfter) s.socket.end();
  try {
    const msg = decodeTtlv(await s.receive(ANSWER_TIMEOUT_MS));
    assert.equal(msg.tag, Tag.ResponseMessage, 'the answer is not a ResponseMessage');
    assert.ok(child(msg, Tag.ResponseHeader), 'the answer has no header');
    for (const it of responseItems(msg)) assert.notEqual(it.status, undefined, 'a batch item without ResultStatus');
    return 'answered';
  } catch (err) {
    if (s.closed) return 'closed';
    throw err;
  }
}

/** The last TLS session ticket: new connections resume it, which keeps 2,000 mutants cheap. */
let session: Buffer | undefined;

async function connect(): Promise<TtlvSocket> {
  const s = await TtlvSocket.open(kms.port, client, session ? { session } : {});
  s.socket.on('session', (t: Buffer) => (session = t));
  return s;
}

/** On a new connection, closed afterwards. */
async function sendOne(bytes: Uint8Array, endAfter: boolean): Promise<Outcome> {
  const s = await connect();
  try {
    return await exchange(s, bytes, endAfter);
  } finally {
    s.close();
  }
}

/**
 * Makes a mutant self-framing: the outer length is set to the bytes that follow, so the server reads
 * exactly this message, unless a mutation made it claim more than the limit (that case is kept:
 * the server must refuse it from the header alone). Mutants under 8 bytes are sent, then the
 * connection is half-closed.
 */
function frame(b: Buffer): { bytes: Buffer; endAfter: boolean } {
  if (b.length < 8) return { bytes: b, endAfter: true };
  const claimed = b.readUInt32BE(4);
  if (claimed + 8 > MAX_MESSAGE) return { bytes: b, endAfter: false };
  const out = Buffer.from(b);
  out.writeUInt32BE(b.length - 8, 4);
  return { bytes: out, endAfter: false };
}

test(`${COUNT} mutated messages over mutual TLS (seed 0x${SEED.toString(16)}): each answered or closed, never a hang`, { timeout: 120_000 }, async () => {
  const seeds = seedMessages();
  const rng = new Prng(SEED);
  const mutants = Array.from({ length: COUNT }, () => frame(mutate(rng, seeds).bytes));
  const outcomes = { answered: 0, closed: 0 };
  let next = 0;
  // Each worker keeps its connection while the server keeps it open (as a client would); a mutant
  // that meets a close on a reused connection is sent again on a new one, so that a close always
  // belongs to the mutant that caused it.
  const worker = async (): Promise<void> => {
    let sock: TtlvSocket | undefined;
    try {
      for (let i = next++; i < mutants.length; i = next++) {
        const m = mutants[i]!;
        try {
          if (m.endAfter) {
            outcomes[await sendOne(m.bytes, true)]++;
            continue;
          }
          const reused = sock !== undefined && !sock.closed;
          if (!reused) {
            sock?.close();
            sock = await connect();
          }
          let outcome = await exchange(sock!, m.bytes, false);
          if (outcome === 'closed' && reused) outcome = await sendOne(m.bytes, false);
          outcomes[outcome]++;
        } catch (err) {
          assert.fail(`mutant ${i}: ${String(err)}\n${m.bytes.toString('hex').slice(0, 400)}`);
        }
      }
    } finally {
      sock?.close();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  assert.equal(outcomes.answered + outcomes.closed, COUNT);
  assert.ok(outcomes.answered > COUNT / 2, `only ${outcomes.answered} answered`);
  await stillServes();
});

test('garbage and truncated messages get an error or a close', async () => {
  const garbage = Buffer.from('this is not TTLV at all, just text....', 'utf8');
  assert.ok(['answered', 'closed'].includes(await sendOne(garbage, false)));
  assert.ok(['answered', 'closed'].includes(await sendOne(QUERY.subarray(0, 20), true)));
  await stillServes();
});

test('a length field over the limit is refused from the header, without waiting for the body', async () => {
  const head = Buffer.from(QUERY.subarray(0, 8));
  head.writeUInt32BE(0x7ffffff0, 4);
  const s = await TtlvSocket.open(kms.port, client);
  try {
    s.send(head);
    const t0 = Date.now();
    let outcome: Outcome;
    try {
      const msg = decodeTtlv(await s.receive(ANSWER_TIMEOUT_MS));
      assert.equal(msg.tag, Tag.ResponseMessage);
      outcome = 'answered';
    } catch (err) {
      if (!s.closed) throw err;
      outcome = 'closed';
    }
    assert.ok(Date.now() - t0 < ANSWER_TIMEOUT_MS, `took ${Date.now() - t0} ms (${outcome})`);
    if (outcome === 'answered') assert.ok(await s.waitClosed(ANSWER_TIMEOUT_MS), 'the connection stayed open after an oversized header');
  } finally {
    s.close();
  }
  await stillServes();
});

async function handshakeRefused(id: Partial<TlsIdentity> & { ca: TlsIdentity['ca'] }): Promise<void> {
  let s: TtlvSocket | undefined;
  try {
    s = await TtlvSocket.open(kms.port, id as TlsIdentity);
    // TLS 1.3: the server's refusal of the client certificate arrives after the client's handshake.
    s.send(QUERY);
    await assert.rejects(s.receive(ANSWER_TIMEOUT_MS), 'the server answered a client it must refuse');
  } catch (err) {
    assert.ok(err instanceof Error);
  } finally {
    s?.close();
  }
}

test('a client without a certificate is refused', async () => {
  await handshakeRefused({ ca: client.ca });
  await stillServes();
});

test('a certificate from another CA is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cv-other-ca-'));
  try {
    await initCa(dir, { commonName: 'another CA' });
    await issueCertificate(dir, 'intruder', { kind: 'client' });
    const other = identityFromFiles(dir, 'intruder');
    await handshakeRefused({ ca: client.ca, cert: other.cert, key: other.key });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await stillServes();
});

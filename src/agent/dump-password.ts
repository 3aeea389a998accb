/**
 * A dump re-sealed to a password, for a support bundle (docs/agent.md, "Crash dumps").
 *
 * File: one line `CVDUMPPW1 {"kdf":"scrypt","N":32768,"r":8,"p":1,"salt":"<base64, 16 bytes>"}\n`,
 * then a sealed file (src/crypto, purpose `host-crash-dump-password`, file id `support-bundle`)
 * under the 32-byte key scrypt(password, salt, N, r, p). The sealed file adds its own random
 * salt to that key, so each bundle has its own file key.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SecretBytes, createSealedWriter, openSealedReader } from '../crypto/index.js';
import { AgentError } from './errors.js';

export const PASSWORD_DUMP_PURPOSE = 'host-crash-dump-password';
const FILE_ID = 'support-bundle';
const MAGIC = 'CVDUMPPW1 ';
const MAX_LINE = 512;
/** scrypt cost: N=2^15, r=8 (32 MiB, ~0.1 s); a reader accepts up to N=2^20, r=16, p=4. */
const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

interface KdfParams {
  readonly kdf: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
}

function deriveKey(password: Buffer, k: KdfParams): SecretBytes {
  if (password.length === 0) throw new AgentError('invalid_request', 'the password is empty');
  const key = scryptSync(password, Buffer.from(k.salt, 'base64'), 32, {
    N: k.N,
    r: k.r,
    p: k.p,
    maxmem: 256 * k.N * k.r + 1024 * 1024,
  });
  return SecretBytes.from(key, { zeroSource: true });
}

function badFile(why: string): AgentError {
  return new AgentError('invalid_request', `not a password-sealed dump: ${why}`);
}

/** Writes `plain` to `out` sealed under `password` (scrypt). */
export async function sealDumpToPassword(
  plain: AsyncIterable<Buffer>,
  password: Buffer,
  out: string,
): Promise<void> {
  const params: KdfParams = { kdf: 'scrypt', ...DEFAULT_KDF, salt: randomBytes(16).toString('base64') };
  const key = deriveKey(password, params);
  const sealedTmp = join(dirname(out), `.${randomBytes(6).toString('hex')}.sealed`);
  try {
    const w = await createSealedWriter(key, sealedTmp, { purpose: PASSWORD_DUMP_PURPOSE, fileId: FILE_ID });
    try {
      for await (const chunk of plain) {
        await w.write(chunk);
        chunk.fill(0);
      }
      await w.finish();
    } catch (err) {
      await w.abort();
      throw err;
    }
    // Prefix the KDF line: copy the (ciphertext) sealed file behind it.
    const tmp = `${out}.${randomBytes(6).toString('hex')}.tmp`;
    const dst = await open(tmp, 'wx', 0o600);
    try {
      await dst.write(Buffer.from(MAGIC + JSON.stringify(params) + '\n', 'utf8'));
      const src = await open(sealedTmp, 'r');
      try {
        for await (const c of src.createReadStream() as AsyncIterable<Buffer>) await dst.write(c);
      } finally {
        await src.close().catch(() => undefined);
      }
      await dst.sync();
    } catch (err) {
      await dst.close();
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await dst.close();
    await rename(tmp, out);
  } finally {
    key.dispose();
    await unlink(sealedTmp).catch(() => undefined);
  }
}

function parseParams(line: string): KdfParams {
  let v: Partial<KdfParams>;
  try {
    v = JSON.parse(line) as Partial<KdfParams>;
  } catch {
    throw badFile('the KDF line is not JSON');
  }
  const int = (x: unknown, max: number): x is number =>
    Number.isInteger(x) && (x as number) >= 1 && (x as number) <= max;
  if (
    v.kdf !== 'scrypt' ||
    !int(v.N, 2 ** 20) ||
    (v.N & (v.N - 1)) !== 0 ||
    v.N < 2 ||
    !int(v.r, 16) ||
    !int(v.p, 4)
  )
    throw badFile('unsupported KDF parameters');
  if (typeof v.salt !== 'string' || Buffer.from(v.salt, 'base64').length !== 16) throw badFile('bad salt');
  return v as KdfParams;
}

/** Yields the plaintext of a password-sealed dump (wrong password: CryptoError sealed_invalid). */
export async function* readPasswordDump(
  file: string,
  password: Buffer,
): AsyncGenerator<Buffer, void, undefined> {
  const fh = await open(file, 'r');
  const sealedTmp = join(tmpdir(), `cryptvisor-dump-${randomBytes(6).toString('hex')}.sealed`);
  let key: SecretBytes | undefined;
  try {
    const head = Buffer.alloc(MAX_LINE);
    const { bytesRead } = await fh.read(head, 0, MAX_LINE, 0);
    const nl = head.subarray(0, bytesRead).indexOf(10);
    if (nl < 0 || head.subarray(0, MAGIC.length).toString('latin1') !== MAGIC)
      throw badFile('no CVDUMPPW1 line');
    key = deriveKey(password, parseParams(head.subarray(MAGIC.length, nl).toString('utf8')));
    const dst = await open(sealedTmp, 'wx', 0o600);
    try {
      for await (const c of fh.createReadStream({ start: nl + 1, autoClose: false }) as AsyncIterable<Buffer>)
        await dst.write(c);
    } finally {
      await dst.close();
    }
    const reader = await openSealedReader(key, sealedTmp, {
      purpose: PASSWORD_DUMP_PURPOSE,
      fileId: FILE_ID,
    });
    yield* reader.chunks();
  } finally {
    key?.dispose();
    await fh.close().catch(() => undefined);
    await unlink(sealedTmp).catch(() => undefined);
  }
}

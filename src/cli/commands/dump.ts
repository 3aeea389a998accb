/**
 * `cryptvisor dump decrypt FILE`: opens a sealed agent dump (docs/agent.md, "Crash dumps").
 * The host key comes from center (`--host H`: center fetches it from the host's key provider; the
 * caller needs Cryptographer.ManageKeys, and the fetch is audited) or from a key file (raw 32
 * bytes, mode 0600) for offline use; a dump re-sealed
 * to a password opens with --password-file. Without --reseal-password, OUT is a new directory that
 * receives report.json and heap.heapsnapshot; with it, OUT is a password-sealed dump for a support
 * bundle, the new password read from the first line of stdin.
 */
import { open, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CommonError } from '../../common/errors.js';
import { SecretBytes, withSecret } from '../../crypto/index.js';
import { KEK_BYTES, readKeyFile } from '../../disk/index.js';
import {
  readDump,
  readPasswordDump,
  sealDumpToPassword,
  splitDump,
  type DumpMeta,
} from '../../agent/index.js';
import { flag, pos, str, type CommandContext, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote } from './login.js';

function firstLine(buf: Buffer): Buffer {
  const nl = buf.indexOf(10);
  const end = nl < 0 ? buf.length : nl > 0 && buf[nl - 1] === 13 ? nl - 1 : nl;
  const line = Buffer.from(buf.subarray(0, end));
  buf.fill(0);
  if (line.length === 0) throw new CommonError('usage', 'the password is empty');
  return line;
}

async function readStdin(ctx: CommandContext): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of ctx.stdin as AsyncIterable<Buffer | string>)
    parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  const all = Buffer.concat(parts);
  for (const p of parts) p.fill(0);
  return all;
}

/** The dump's plaintext, from a host key file or a password file; the caller consumes it at once. */
async function plaintext(
  ctx: CommandContext,
  file: string,
  use: (plain: AsyncIterable<Buffer>) => Promise<void>,
): Promise<void> {
  const keyFile = str(ctx.args, 'key-file');
  const passwordFile = str(ctx.args, 'password-file');
  const host = str(ctx.args, 'host');
  if ([keyFile, passwordFile, host].filter((x) => x !== undefined).length !== 1) {
    throw new CommonError(
      'usage',
      'give exactly one of --host H (the host key through center), --key-file (the host key) and --password-file (a re-sealed dump)',
    );
  }
  if (host) {
    const r = await (await remote(ctx)).call<{ key: string }>(
      'GET',
      `/api/v1/hosts/${encodeURIComponent(host)}/host-key`,
    );
    const raw = Buffer.from(r.key, 'base64');
    await withSecret(SecretBytes.from(raw, { zeroSource: true }), (key) => use(readDump(key, file)));
    return;
  }
  if (keyFile) {
    await withSecret(await readKeyFile(resolve(keyFile), KEK_BYTES), (key) => use(readDump(key, file)));
    return;
  }
  const password = firstLine(await readFile(resolve(passwordFile as string)));
  try {
    await use(readPasswordDump(file, password));
  } finally {
    password.fill(0);
  }
}

async function extract(plain: AsyncIterable<Buffer>, outDir: string): Promise<DumpMeta> {
  await mkdir(outDir, { mode: 0o700 });
  const report = await open(join(outDir, 'report.json'), 'wx', 0o600);
  const heap = await open(join(outDir, 'heap.heapsnapshot'), 'wx', 0o600);
  try {
    return await splitDump(plain, {
      report: async (d) => void (await report.write(d)),
      heap: async (d) => void (await heap.write(d)),
    });
  } finally {
    await report.close();
    await heap.close();
  }
}

export const DUMP_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['dump', 'decrypt'],
    summary: 'decrypt a sealed agent dump (report and heap snapshot), or re-seal it to a password',
    positionals: [{ name: 'file', required: true }],
    options: [
      {
        name: 'host',
        type: 'string',
        help: "the dump's host: center fetches its host key (needs Cryptographer.ManageKeys; audited)",
        valueName: 'H',
      },
      DATA_OPTION,
      {
        name: 'key-file',
        type: 'string',
        help: 'the host key: raw 32 bytes (mode 0600)',
        valueName: 'HOSTKEY',
      },
      {
        name: 'password-file',
        type: 'string',
        help: 'the password of a re-sealed dump (first line of the file)',
        valueName: 'F',
      },
      {
        name: 'out',
        type: 'string',
        required: true,
        help: 'a new directory for report.json and heap.heapsnapshot, or the re-sealed file',
        valueName: 'OUT',
      },
      {
        name: 'reseal-password',
        type: 'boolean',
        help: 're-seal to a password (read from stdin) instead of decrypting',
      },
    ],
    async run(ctx) {
      const file = resolve(pos(ctx.args, 'file') as string);
      const out = resolve(str(ctx.args, 'out') as string);
      if (flag(ctx.args, 'reseal-password')) {
        const password = firstLine(await readStdin(ctx));
        try {
          await plaintext(ctx, file, (plain) => sealDumpToPassword(plain, password, out));
        } finally {
          password.fill(0);
        }
        return { resealed: out };
      }
      let meta: DumpMeta | undefined;
      await plaintext(ctx, file, async (plain) => {
        meta = await extract(plain, out);
      });
      return { out, ...(meta as DumpMeta) };
    },
    human: (r) => {
      const o = r as {
        resealed?: string;
        out?: string;
        reason?: string;
        createdAt?: string;
        hostId?: string;
      };
      if (o.resealed) return `dump re-sealed to a password: ${o.resealed}`;
      return `dump of host ${o.hostId} (${o.reason}, ${o.createdAt}) decrypted into ${o.out}/report.json and heap.heapsnapshot`;
    },
  },
];

/**
 * `cryptvisor disk …`: the offline disk tools, which are also the recovery path (DESIGN.md §10).
 * Key files hold the raw 64-byte volume key (the disk DEK), as `cryptsetup --volume-key-file` reads it.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SecretBytes, withSecret } from '../../crypto/index.js';
import { CommonError } from '../../common/errors.js';
import { parseSize } from '../../common/size.js';
import {
  KEK_BYTES,
  describeImage,
  decryptImage,
  encryptImage,
  formatImage,
  openImage,
  readKeyFile,
  rekeyImage,
  writeKeyFile,
  parseKmsServers,
  recoverDiskKey,
  type ImageDescription,
  type KmsAccess,
  type KekBinding,
  type OpenedImage,
} from '../../disk/index.js';
import { NbdServer } from '../../nbd/index.js';
import { flag, pos, str, type CommandContext, type CommandSpec, type OptionSpec } from '../command.js';
import { progressBar } from '../progress.js';

const KEY_FILE: OptionSpec = { name: 'key-file', type: 'string', required: true, help: 'raw 64-byte volume key (mode 0600)', valueName: 'K' };
const DURABLE: OptionSpec = { name: 'durable', type: 'boolean', help: 'fsync at every checkpoint (survives power loss; slower)' };
const CHUNK: OptionSpec = { name: 'chunk-size', type: 'string', help: 'bytes per journalled step (default 4M, at most 16M)', valueName: 'SIZE' };

function convertOptions(ctx: CommandContext, onProgress: (d: number, t: number) => void) {
  const chunk = str(ctx.args, 'chunk-size');
  return { durable: flag(ctx.args, 'durable'), onProgress, ...(chunk ? { chunkSize: parseSize(chunk) } : {}) };
}
const BINDING: readonly OptionSpec[] = [
  { name: 'key-provider', type: 'string', help: 'key provider ID recorded in the token', valueName: 'ID' },
  { name: 'key-id', type: 'string', help: 'KEK ID recorded in the token', valueName: 'ID' },
  { name: 'kek-file', type: 'string', help: 'raw 32-byte KEK that wraps the DEK into the token', valueName: 'KEK' },
];

function requireArg(ctx: CommandContext, name: string): string {
  const v = pos(ctx.args, name);
  if (!v) throw new CommonError('usage', `${name.toUpperCase()} is required`);
  return resolve(v);
}

/** Reads --key-provider/--key-id/--kek-file: all three or none. */
async function readBinding(ctx: CommandContext): Promise<KekBinding | undefined> {
  const provider = str(ctx.args, 'key-provider');
  const keyId = str(ctx.args, 'key-id');
  const kekFile = str(ctx.args, 'kek-file');
  const given = [provider, keyId, kekFile].filter((v) => v !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3 || !provider || !keyId || !kekFile) {
    throw new CommonError('usage', '--key-provider, --key-id and --kek-file go together');
  }
  return { keyProviderId: provider, keyId, kek: await readKeyFile(kekFile, KEK_BYTES) };
}

async function withKey<T>(path: string, fn: (key: SecretBytes) => Promise<T>): Promise<T> {
  return withSecret(await readKeyFile(path), fn);
}

function progress(ctx: CommandContext, label: string) {
  const bar = progressBar(ctx.stderr, ctx.isTTY && !ctx.json, label);
  return { onProgress: (d: number, t: number) => bar.update(d, t), bar };
}

function describeText(d: ImageDescription): string {
  const lines = [
    `image:       ${d.path}`,
    `format:      LUKS2, ${d.cipher}, ${d.sectorSize}-byte sectors`,
    `uuid:        ${d.uuid}`,
    `size:        ${d.sizeBytes} bytes (payload at ${d.dataOffset})`,
    `keyslots:    ${d.keyslots.length === 0 ? 'none' : d.keyslots.join(', ')}`,
  ];
  if (!d.token) lines.push('token:       none (not a cryptvisor disk)');
  else if (!d.token.dekWrapped) lines.push('token:       cryptvisor; the DEK is not wrapped (no KEK)');
  else lines.push(`token:       cryptvisor; DEK wrapped by key ${d.token.keyId} of provider ${d.token.keyProviderId}`);
  return lines.join('\n');
}

const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: 'socket', type: 'string', help: 'Unix socket path', valueName: 'PATH' },
  { name: 'port', type: 'string', help: 'TCP port (TLS with a client certificate required)', valueName: 'P' },
  { name: 'host', type: 'string', help: 'TCP address (default 127.0.0.1)', valueName: 'ADDR' },
  { name: 'export', type: 'string', help: 'also serve the export under this name', valueName: 'NAME' },
  { name: 'tls-dir', type: 'string', help: 'directory with ca.pem, server.pem and server.key', valueName: 'DIR' },
];

interface Listen {
  readonly socket: string | undefined;
  readonly port: string | undefined;
  readonly tlsDir: string | undefined;
}

/** Checks --socket/--port/--tls-dir before any key is read. */
function listenArgs(ctx: CommandContext, socket = str(ctx.args, 'socket')): Listen {
  const port = str(ctx.args, 'port');
  if ((socket === undefined) === (port === undefined)) throw new CommonError('usage', 'give exactly one of --socket PATH or --port P');
  const tlsDir = str(ctx.args, 'tls-dir');
  if (port !== undefined && !tlsDir) throw new CommonError('usage', 'a TCP export requires TLS: give --tls-dir DIR');
  return { socket, port, tlsDir };
}

/** Serves an opened image over NBD until SIGINT or SIGTERM; prints the URI first. */
async function serveOpened(ctx: CommandContext, image: string, opened: OpenedImage, readOnly: boolean, at: Listen, extra: object = {}): Promise<undefined> {
  const exportName = str(ctx.args, 'export');
  const exports = [{ name: '', device: opened.device, readOnly, description: 'cryptvisor disk' }];
  if (exportName) exports.push({ name: exportName, device: opened.device, readOnly, description: 'cryptvisor disk' });
  const tls = at.tlsDir
    ? {
        ca: await readFile(join(at.tlsDir, 'ca.pem')),
        cert: await readFile(join(at.tlsDir, 'server.pem')),
        key: await readFile(join(at.tlsDir, 'server.key')),
      }
    : undefined;
  const server = new NbdServer({ exports, ...(tls ? { tls } : {}), logger: ctx.logger });
  let uri: string;
  try {
    if (at.socket) {
      const path = resolve(at.socket);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await server.listenUnix(path);
      uri = `nbd+unix:///${exportName ?? ''}?socket=${path}`;
    } else {
      const p = Number(at.port);
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new CommonError('usage', `invalid port "${at.port}"`);
      const host = str(ctx.args, 'host') ?? '127.0.0.1';
      const addr = await server.listenTcp(p, host);
      uri = `nbds://${host.includes(':') ? `[${host}]` : host}:${addr.port}/${exportName ?? ''}`;
    }
  } catch (err) {
    await server.close();
    await opened.close();
    throw err;
  }
  ctx.stdout.write(ctx.json ? JSON.stringify({ uri, image, readOnly, ...extra }) + '\n' : `serving ${image} at ${uri}\n`);
  await new Promise<void>((res) => {
    if (ctx.signal.aborted) res();
    else ctx.signal.addEventListener('abort', () => res(), { once: true });
  });
  await server.close();
  await opened.close();
  return undefined;
}

async function serve(ctx: CommandContext): Promise<unknown> {
  const image = requireArg(ctx, 'img');
  const at = listenArgs(ctx);
  const readOnly = flag(ctx.args, 'read-only');
  const opened = await withKey(str(ctx.args, 'key-file') as string, (key) => openImage(image, key, { readOnly }));
  return serveOpened(ctx, image, opened, readOnly, at);
}

/** Where `disk recover` reaches the KMS: --kms/--ca/--cert/--key, or a `cryptvisor up` layout (--data D). */
async function kmsAccess(ctx: CommandContext): Promise<KmsAccess> {
  const explicit = ['ca', 'cert', 'key'].map((n) => str(ctx.args, n));
  const given = explicit.filter((v) => v !== undefined).length;
  const data = str(ctx.args, 'data') ?? (given === 0 ? ctx.env['CRYPTVISOR_DATA'] : undefined);
  if (given !== 0 && given !== 3) throw new CommonError('usage', '--ca, --cert and --key go together');
  if (given === 0 && !data) {
    throw new CommonError('usage', 'give the KMS: --kms HOST:PORT --ca F --cert F --key F, or --data D of `cryptvisor up`');
  }
  const pki = data ? join(resolve(data), 'kms', 'pki') : '';
  const [ca, cert, key] = (given === 3 ? explicit : [join(pki, 'ca.pem'), join(pki, 'admin.pem'), join(pki, 'admin.key')]) as [string, string, string];
  let servers = str(ctx.args, 'kms');
  if (!servers && data) {
    const endpoints = join(resolve(data), 'run', 'endpoints.json');
    try {
      const e = JSON.parse(await readFile(endpoints, 'utf8')) as { kms?: { kmip?: unknown } };
      if (typeof e.kms?.kmip === 'string') servers = e.kms.kmip;
    } catch {
      // reported below
    }
    if (!servers) throw new CommonError('usage', `${endpoints} names no KMS (is \`cryptvisor up\` running?): give --kms HOST:PORT`);
  }
  if (!servers) throw new CommonError('usage', '--kms HOST:PORT is required');
  const read = async (f: string, what: string) => {
    try {
      return await readFile(f, 'utf8');
    } catch (err) {
      throw new CommonError('file_not_found', `cannot read the ${what} ${f}`, { cause: err });
    }
  };
  const servername = str(ctx.args, 'servername');
  return {
    servers: parseKmsServers(servers),
    ca: await read(ca, 'KMS CA'),
    cert: await read(cert, 'client certificate'),
    key: await read(key, 'client key'),
    ...(servername ? { servername } : {}),
  };
}

const KEY_FILE_WARNING =
  'warning: %s holds the disk\'s volume key in clear: whoever reads it can decrypt the disk. Keep it on ' +
  'encrypted or volatile storage, and shred it when done.\n';

async function recover(ctx: CommandContext): Promise<unknown> {
  const image = requireArg(ctx, 'extent');
  const out = str(ctx.args, 'volume-key-file');
  if (str(ctx.args, 'socket') !== undefined && str(ctx.args, 'serve') !== undefined) {
    throw new CommonError('usage', '--serve is another name for --socket: give one of them');
  }
  const socket = str(ctx.args, 'socket') ?? str(ctx.args, 'serve');
  const serving = socket !== undefined || str(ctx.args, 'port') !== undefined;
  if (serving === (out !== undefined)) {
    throw new CommonError('usage', 'give exactly one of --socket PATH / --port P (serve read-only over NBD) or --volume-key-file OUT');
  }
  const at = serving ? listenArgs(ctx, socket) : undefined;
  const vmUuid = str(ctx.args, 'vm-uuid');
  const diskId = str(ctx.args, 'disk-id');
  const place = vmUuid || diskId ? { ...(vmUuid ? { vmUuid } : {}), ...(diskId ? { diskId } : {}) } : undefined;
  const kms = await kmsAccess(ctx);
  const r = await recoverDiskKey(image, { kms, ...(place ? { place } : {}) });
  const found = { image, keyProviderId: r.keyProviderId, keyId: r.keyId };
  if (at) {
    const opened = await withSecret(r.dek, (dek) => openImage(image, dek, { readOnly: true }));
    return serveOpened(ctx, image, opened, true, at, found);
  }
  const file = resolve(out as string);
  await withSecret(r.dek, (dek) => writeKeyFile(file, dek));
  ctx.stderr.write(KEY_FILE_WARNING.replace('%s', file));
  return { ...found, volumeKeyFile: file };
}

export const DISK_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['disk', 'format'],
    summary: 'create a new encrypted LUKS2 disk image with a sparse payload of SIZE bytes',
    positionals: [{ name: 'img', required: true }],
    options: [{ name: 'size', type: 'string', required: true, help: 'payload size (bytes, or K/M/G/T)', valueName: 'SIZE' }, KEY_FILE, ...BINDING],
    async run(ctx) {
      const image = requireArg(ctx, 'img');
      const sizeBytes = parseSize(str(ctx.args, 'size') as string);
      const binding = await readBinding(ctx);
      try {
        const header = await withKey(str(ctx.args, 'key-file') as string, (volumeKey) =>
          formatImage(image, { sizeBytes, volumeKey, ...(binding ? { binding } : {}) }),
        );
        return { image, uuid: header.uuid, sizeBytes, dekWrapped: binding !== undefined };
      } finally {
        binding?.kek.dispose();
      }
    },
    human: (r) => {
      const o = r as { image: string; uuid: string; sizeBytes: number; dekWrapped: boolean };
      return `formatted ${o.image} (${o.sizeBytes} bytes, uuid ${o.uuid})${o.dekWrapped ? '' : '; the DEK is not wrapped (no KEK given)'}`;
    },
  },
  {
    path: ['disk', 'encrypt'],
    summary: 'turn a raw image into a LUKS2 disk in place (resumes after a crash)',
    positionals: [{ name: 'raw', required: true }],
    options: [KEY_FILE, DURABLE, CHUNK, ...BINDING],
    async run(ctx) {
      const image = requireArg(ctx, 'raw');
      const binding = await readBinding(ctx);
      const p = progress(ctx, 'encrypting');
      try {
        await withKey(str(ctx.args, 'key-file') as string, (key) =>
          encryptImage(image, key, { ...convertOptions(ctx, p.onProgress), ...(binding ? { binding } : {}) }),
        );
      } finally {
        p.bar.done();
        binding?.kek.dispose();
      }
      return { image, encrypted: true };
    },
    human: (r) => `encrypted ${(r as { image: string }).image}`,
  },
  {
    path: ['disk', 'decrypt'],
    summary: 'turn a LUKS2 disk back into the raw image in place (resumes after a crash)',
    positionals: [{ name: 'img', required: true }],
    options: [KEY_FILE, DURABLE, CHUNK],
    async run(ctx) {
      const image = requireArg(ctx, 'img');
      const p = progress(ctx, 'decrypting');
      try {
        await withKey(str(ctx.args, 'key-file') as string, (key) =>
          decryptImage(image, key, convertOptions(ctx, p.onProgress)),
        );
      } finally {
        p.bar.done();
      }
      return { image, decrypted: true };
    },
    human: (r) => `decrypted ${(r as { image: string }).image}`,
  },
  {
    path: ['disk', 'rekey'],
    summary: 'deep rekey: re-encrypt every sector under a new volume key (resumes after a crash)',
    positionals: [{ name: 'img', required: true }],
    options: [
      KEY_FILE,
      { name: 'new-key-file', type: 'string', required: true, help: 'raw 64-byte new volume key (mode 0600)', valueName: 'NEW' },
      DURABLE,
      CHUNK,
      ...BINDING,
    ],
    async run(ctx) {
      const image = requireArg(ctx, 'img');
      const binding = await readBinding(ctx);
      const p = progress(ctx, 'rekeying');
      try {
        await withKey(str(ctx.args, 'key-file') as string, (oldKey) =>
          withKey(str(ctx.args, 'new-key-file') as string, (newKey) =>
            rekeyImage(image, oldKey, newKey, { ...convertOptions(ctx, p.onProgress), ...(binding ? { binding } : {}) }),
          ),
        );
      } finally {
        p.bar.done();
        binding?.kek.dispose();
      }
      return { image, rekeyed: true };
    },
    human: (r) => `rekeyed ${(r as { image: string }).image}`,
  },
  {
    path: ['disk', 'serve'],
    summary: 'serve the decrypted disk over NBD until SIGINT or SIGTERM',
    positionals: [{ name: 'img', required: true }],
    options: [
      KEY_FILE,
      ...SERVE_OPTIONS,
      { name: 'read-only', type: 'boolean', help: 'refuse writes' },
    ],
    run: serve,
  },
  {
    path: ['disk', 'describe'],
    summary: 'show the header and token of a disk image (no secrets)',
    positionals: [{ name: 'img', required: true }],
    async run(ctx) {
      return describeImage(requireArg(ctx, 'img'));
    },
    human: (r) => describeText(r as ImageDescription),
  },
  {
    path: ['disk', 'keygen'],
    summary: 'write a new random 64-byte volume key file (mode 0600)',
    positionals: [{ name: 'file', required: true }],
    async run(ctx) {
      const file = requireArg(ctx, 'file');
      await withSecret(SecretBytes.random(64), (k) => writeKeyFile(file, k));
      return { keyFile: file };
    },
    human: (r) => `wrote ${(r as { keyFile: string }).keyFile}`,
  },
  {
    path: ['disk', 'recover'],
    summary: 'recover a disk with KMS access: fetch its KEK, unwrap its DEK, then serve it read-only or write a volume key file',
    positionals: [{ name: 'extent', required: true }],
    options: [
      { name: 'kms', type: 'string', help: 'KMIP server(s) of the key provider (default: D/run/endpoints.json)', valueName: 'HOST:PORT[,...]' },
      { name: 'ca', type: 'string', help: 'CA of the KMS certificate (PEM)', valueName: 'F' },
      { name: 'cert', type: 'string', help: 'client certificate of an identity allowed to Get the KEK (PEM)', valueName: 'F' },
      { name: 'key', type: 'string', help: 'its private key (PEM)', valueName: 'F' },
      { name: 'servername', type: 'string', help: 'name to check the KMS certificate against', valueName: 'NAME' },
      { name: 'data', type: 'string', help: 'a `cryptvisor up` directory: its KMS and administrator identity', valueName: 'D' },
      { name: 'vm-uuid', type: 'string', help: 'VM the disk belongs to (default: from the VM folder beside the extent)', valueName: 'UUID' },
      { name: 'disk-id', type: 'string', help: 'disk ID within the VM (default: from the VM folder)', valueName: 'ID' },
      { name: 'volume-key-file', type: 'string', help: 'write the raw 64-byte volume key here (mode 0600) for cryptsetup', valueName: 'OUT' },
      { name: 'serve', type: 'string', help: 'same as --socket', valueName: 'SOCKET' },
      ...SERVE_OPTIONS,
    ],
    run: recover,
    human: (r) => {
      const o = r as { image: string; keyId: string; volumeKeyFile: string };
      return `recovered the volume key of ${o.image} (KEK ${o.keyId}) into ${o.volumeKeyFile}\nopen it with: cryptsetup open --volume-key-file ${o.volumeKeyFile} ${o.image} NAME`;
    },
  },
];

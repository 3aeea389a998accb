/**
 * `cryptvisor demo [--data D]` (issue 6, docs/up.md): walks the eight steps of DESIGN.md §2 on a
 * system `cryptvisor up` runs, with a VM of its own (`demo-N`), and checks each step from outside
 * the services: the CLI (DESIGN §10), the KMS's audit records and its KMIP interface (with the
 * KMS administrator's identity, D/kms/pki/admin.pem), the host agent's API, and the files on disk.
 * It removes its VM at the end and exits non-zero when any check fails.
 */
import { createDecipheriv } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CenterClient } from '../../center/index.js';
import type { SecretBytes } from '../../crypto/index.js';
import { candidatePlaces, fetchKek, readImageHeader, unwrapAtPlaces } from '../../disk/index.js';
import {
  CryptographicAlgorithm,
  KmipClient,
  ObjectType,
  State,
  asEnum,
  type KmipAttribute,
} from '../../kmip/index.js';
import { getToken, segmentInfo } from '../../luks/index.js';
import { str, type CommandContext, type CommandSpec } from '../command.js';
import {
  agentGet,
  hexdumpSideBySide,
  kmsAudit,
  listFiles,
  scanForSecrets,
  type AgentTls,
} from '../demo-evidence.js';
import { guestDiskIo } from '../demo-nbd.js';
import { UpError } from '../up-errors.js';
import {
  CENTER,
  dataDir,
  isUpProcess,
  readEndpoints,
  readPid,
  upLayout,
  type Endpoints,
  type UpLayout,
} from '../up-layout.js';
import { BUILTIN_POLICY_NAME, cliError, loginAdmin, runCryptvisor } from '../up-setup.js';
import { CLI } from './up.js';

const DEMO_DISK = '16M';
const SECTOR = 4096;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface DemoVm {
  readonly name: string;
  readonly host: string;
  readonly powerState: string;
  readonly cryptoState: string;
  readonly encrypted: boolean;
  readonly keyProviderId: string | null;
  readonly keyId: string | null;
  readonly disks: readonly { id: string; sizeBytes: number; extentPath: string; nbdUri?: string }[];
}

/** The plaintext the demo's guest writes: a recognizable 4096-byte sector. */
function guestSector(name: string): Buffer {
  const line = `cryptvisor demo ${name}: the guest sees this text; the datastore holds only ciphertext.\n`;
  return Buffer.from(line.repeat(Math.ceil(SECTOR / line.length)).slice(0, SECTOR));
}

class Demo {
  readonly failures: string[] = [];
  readonly #say: (s: string) => void;
  #center: CenterClient | undefined;

  constructor(
    readonly l: UpLayout,
    readonly endpoints: Endpoints,
    readonly ctx: CommandContext,
  ) {
    this.#say = (s) => void ctx.stdout.write(s + '\n');
  }

  say(s: string): void {
    this.#say(s);
  }

  step(n: number, title: string): void {
    this.#say(`\n${n}. ${title}`);
  }

  check(ok: boolean, what: string): boolean {
    this.#say(`   ${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) this.failures.push(what);
    return ok;
  }

  async cv<T>(args: readonly string[]): Promise<T> {
    const r = await runCryptvisor(CLI, [...args, '--data', this.l.data, '--json'], this.ctx.env);
    if (r.status !== 0) {
      const e = cliError(r);
      throw new UpError('demo_failed', `cryptvisor ${args.join(' ')} failed: ${e.message} (${e.code})`);
    }
    return JSON.parse(r.stdout) as T;
  }

  /** Reads go straight to center's API (one login); changes go through the CLI. */
  async show(name: string): Promise<DemoVm> {
    this.#center ??= await loginAdmin(this.l);
    return this.#center.call<DemoVm>('GET', `/api/v1/vms/${encodeURIComponent(name)}`);
  }

  async list(): Promise<DemoVm[]> {
    this.#center ??= await loginAdmin(this.l);
    return this.#center.call<DemoVm[]>('GET', '/api/v1/vms');
  }

  /** Powers the VM on (if needed) and returns its first disk's NBD URI. */
  async nbdUri(name: string): Promise<string> {
    let vm = await this.show(name);
    if (vm.powerState !== 'poweredOn') {
      await this.cv(['vm', 'power-on', name]);
      vm = await this.show(name);
    }
    const uri = vm.disks[0]?.nbdUri;
    if (!uri) throw new UpError('demo_failed', `VM ${name} is on but its disk has no NBD URI`);
    return uri;
  }

  async agentTls(host: string): Promise<AgentTls> {
    const pki = join(this.l.center, 'pki');
    return {
      ca: await readFile(join(this.l.host(host), 'pki', 'ca.pem'), 'utf8'),
      cert: await readFile(join(pki, 'center-client.pem'), 'utf8'),
      key: await readFile(join(pki, 'center-client.key'), 'utf8'),
    };
  }

  async kmip(): Promise<KmipClient> {
    const pki = this.l.kmsPki;
    const [host, port] = this.endpoints.kms.kmip.split(':');
    return new KmipClient({
      servers: [{ host: host as string, port: Number(port) }],
      ca: await readFile(join(pki, 'ca.pem')),
      cert: await readFile(join(pki, 'admin.pem')),
      key: await readFile(join(pki, 'admin.key')),
      poolSize: 1,
    });
  }
}

async function freeName(d: Demo): Promise<string> {
  const names = new Set((await d.list()).map((v) => v.name));
  let n = 1;
  while (names.has(`demo-${n}`)) n++;
  return `demo-${n}`;
}

function attr(
  attrs: readonly KmipAttribute[],
  name: string,
  table?: Readonly<Record<string, number>>,
): string {
  const a = attrs.find((x) => x.name === name);
  if (!a) return '?';
  if (a.value.type === 'Enumeration' && table) {
    const n = asEnum(a.value);
    return Object.entries(table).find(([, v]) => v === n)?.[0] ?? String(n);
  }
  return String(a.value.value);
}

/** Waits for an audit record of the KMS (they are appended within ~100 ms). */
async function auditOf(
  d: Demo,
  keyId: string,
  since: string,
  operation: string,
  timeoutMs = 5000,
): Promise<ReturnType<typeof kmsAudit>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const recs = kmsAudit(d.l.kms, keyId, since).filter((r) => r.operation === operation);
    if (recs.length > 0 || Date.now() > deadline) return recs;
    await sleep(100);
  }
}

async function readExtent(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(length);
    await fh.read(b, 0, length, offset);
    return b;
  } finally {
    await fh.close();
  }
}

/** AES-256-XTS decryption of one sector by OpenSSL (node:crypto), IV = plain64 of the 512-byte unit. */
function opensslDecryptSector(dek: SecretBytes, ciphertext: Buffer, unit: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64LE(BigInt(unit));
  const key = dek.bytes();
  try {
    const d = createDecipheriv('aes-256-xts', key, iv);
    d.setAutoPadding(false);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } finally {
    key.fill(0);
  }
}

async function run(d: Demo, name: string, host: string): Promise<void> {
  const started = new Date().toISOString();
  const io = guestDiskIo();

  d.step(1, 'center asks the KMS for a key (KMIP Create, then Activate); only its ID comes back');
  let vm = await d.cv<DemoVm>([
    'vm',
    'create',
    name,
    '--host',
    host,
    '--disk',
    DEMO_DISK,
    '--policy',
    BUILTIN_POLICY_NAME,
  ]);
  const keyId = vm.keyId;
  d.say(
    `   cryptvisor vm create ${name} --host ${host} --disk ${DEMO_DISK} --policy "${BUILTIN_POLICY_NAME}"`,
  );
  d.say(`   key provider ${vm.keyProviderId ?? '-'}, key ID ${keyId ?? '-'}`);
  if (
    !d.check(
      vm.encrypted && typeof keyId === 'string',
      'the VM is encrypted and center shows only a key ID',
    ) ||
    !keyId
  )
    return;
  const created = await auditOf(d, keyId, started, 'Create');
  const activated = await auditOf(d, keyId, started, 'Activate');
  for (const r of [...created, ...activated])
    d.say(`   KMS audit: ${r.at} ${r.identity} ${r.operation} ${keyId} ${r.result}`);
  d.check(
    created.length === 1 && activated.length === 1,
    'the KMS recorded one Create and one Activate of that key, by center',
  );

  d.step(
    2,
    'the KMS generated the KEK and its ID (GetAttributes with the KMS administrator identity; no key bytes shown)',
  );
  const kmip = await d.kmip();
  try {
    const attrs = await kmip.getAttributes(keyId, [
      'Object Type',
      'Cryptographic Algorithm',
      'Cryptographic Length',
      'State',
    ]);
    const type = attr(attrs, 'Object Type', ObjectType);
    const alg = attr(attrs, 'Cryptographic Algorithm', CryptographicAlgorithm);
    const len = attr(attrs, 'Cryptographic Length');
    const state = attr(attrs, 'State', State);
    d.say(`   ${keyId}: ${type}, ${alg}-${len}, ${state}`);
    d.check(
      type === 'SymmetricKey' && alg === 'AES' && len === '256' && state === 'Active',
      'the KEK is an active AES-256 symmetric key held by the KMS',
    );

    d.step(3, "center stores only the key ID, and forwards the KEK to the host's agent over mutual TLS");
    const centerFiles = await listFiles([d.l.center]);
    let idFound = false;
    for (const f of centerFiles) if ((await readFile(f)).includes(Buffer.from(keyId))) idFound = true;
    d.say(`   center's data (${centerFiles.length} files) holds the key ID: ${idFound ? 'yes' : 'no'}`);
    d.check(idFound, "center's database holds the key ID");
    const tls = await d.agentTls(host);
    const apiUrl = d.endpoints.hosts[host]?.api as string;
    const keys = await agentGet<{ keys: { keyProviderId: string; keyId: string }[] }>(
      apiUrl,
      tls,
      '/api/v1/keys',
    );
    d.check(
      keys.keys.some((k) => k.keyId === keyId),
      `${host}'s agent holds KEK ${keyId} (in RAM only)`,
    );

    d.step(
      4,
      'the host generates a DEK, encrypts the disk with it, wraps the DEK with the KEK, and stores it beside the data',
    );
    const disk = vm.disks[0];
    if (!disk) throw new UpError('demo_failed', `VM ${name} has no disk`);
    const header = await readImageHeader(disk.extentPath);
    const token = getToken(header);
    const seg = segmentInfo(header);
    d.say(
      `   extent ${disk.extentPath}: LUKS2, ${seg.cipher}, ${seg.sectorSize}-byte sectors, data at ${seg.offset}`,
    );
    d.say(
      `   its cryptvisor token: key ID ${token?.keyId ?? '-'}, wrapped DEK ${token?.wrappedKey ? `${token.wrappedKey.slice(0, 24)}… (${token.wrappedKey.length} chars)` : '-'}`,
    );
    d.check(
      token?.keyId === keyId && typeof token.wrappedKey === 'string',
      "the disk's LUKS2 token names the KEK and holds the wrapped DEK",
    );
    const plain = guestSector(name);
    const uri = await d.nbdUri(name);
    await io.write(uri, 0, plain);
    const seen = await io.read(uri, 0, SECTOR);
    const cipher = await readExtent(disk.extentPath, seg.offset, SECTOR);
    d.say(
      `   the guest writes through ${uri} (${io.client}); left: datastore bytes at ${seg.offset}, right: what the guest reads at 0`,
    );
    for (const line of hexdumpSideBySide(cipher, seg.offset, seen, 0, 6)) d.say(`   ${line}`);
    d.check(seen.equals(plain), 'the guest reads back what it wrote');
    const extent = await readFile(disk.extentPath);
    const marker = Buffer.from(`cryptvisor demo ${name}`);
    d.check(
      !cipher.equals(plain) && !extent.includes(marker),
      "the guest's text appears nowhere in the extent file",
    );

    d.step(5, 'the encryption is done by OpenSSL');
    d.say(
      `   node:crypto is OpenSSL ${process.versions.openssl}; the agent encrypts with it (or with its native addon over the same OpenSSL)`,
    );
    const kek = await fetchKek(kmip, keyId);
    let dek: SecretBytes | undefined;
    try {
      dek = unwrapAtPlaces(header, kek, await candidatePlaces(disk.extentPath), disk.extentPath).dek;
      const decrypted = opensslDecryptSector(dek, cipher, seg.ivTweak);
      d.check(
        decrypted.equals(plain),
        "OpenSSL's AES-256-XTS with the unwrapped DEK turns the datastore sector into the guest's sector",
      );
      decrypted.fill(0);

      d.step(6, 'neither center nor the agent writes the KEK anywhere');
      const files = await listFiles([d.l.center, d.l.host(host), dirname(disk.extentPath), d.l.logs]);
      const kekBytes = kek.bytes();
      const dekBytes = dek.bytes();
      const scan = await scanForSecrets(files, [
        { what: 'KEK', bytes: kekBytes },
        { what: 'DEK', bytes: dekBytes },
      ]);
      kekBytes.fill(0);
      dekBytes.fill(0);
      d.say(
        `   scanned ${scan.files} files (${(scan.bytes / 1048576).toFixed(1)} MiB): center's database and data, ${host}'s data, the VM folder, the logs`,
      );
      for (const h of scan.hits) d.say(`   found ${h.what} in ${h.file}`);
      d.check(scan.hits.length === 0, 'no KEK or DEK bytes (raw, hex or base64) in any of them');
    } finally {
      dek?.dispose();
      kek.dispose();
    }
  } finally {
    kmip.close();
  }

  d.step(
    7,
    `the host restarts (kill -9 of the PID in run/${host}.pid): the VM is locked, and center re-fetches the KEK by its ID`,
  );
  const pidFile = d.l.pidFile(host);
  const old = readPid(pidFile);
  if (!old) throw new UpError('demo_failed', `no pid in ${pidFile}`);
  const killed = new Date().toISOString();
  process.kill(old, 'SIGKILL');
  d.say(`   killed ${host} (pid ${old})`);
  const tls = await d.agentTls(host);
  const apiUrl = d.endpoints.hosts[host]?.api as string;
  const deadline = Date.now() + 60_000;
  let first: { cryptoState: string; powerState: string } | undefined;
  while (!first && Date.now() < deadline) {
    first = await agentGet<{ cryptoState: string; powerState: string }>(
      apiUrl,
      tls,
      `/api/v1/vms/${encodeURIComponent(name)}`,
    ).catch(() => undefined);
    if (!first) await sleep(5);
  }
  const newPid = readPid(pidFile);
  d.say(
    `   ${host} is back (pid ${newPid ?? '?'}): VM ${name} is ${first?.powerState ?? '?'} and ${first?.cryptoState ?? '?'}`,
  );
  d.check(newPid !== undefined && newPid !== old, `cryptvisor up restarted ${host} as a new process`);
  d.check(first?.cryptoState === 'locked', `after the restart the agent holds no key: ${name} is locked`);
  const get = (await auditOf(d, keyId, killed, 'Get', 15_000))[0];
  if (get) d.say(`   KMS audit: ${get.at} ${get.identity} Get ${keyId} ${get.result}`);
  d.check(
    get?.result === 'Success' && get.identity === 'CN=center-client',
    'center fetched the KEK from the KMS by its ID (KMIP Get, its own identity)',
  );

  d.step(8, 'center pushes the KEK; the agent unwraps its DEK, the VM unlocks, and its data is intact');
  let now: { cryptoState: string } | undefined;
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    now = await agentGet<{ cryptoState: string }>(
      apiUrl,
      tls,
      `/api/v1/vms/${encodeURIComponent(name)}`,
    ).catch(() => undefined);
    if (now?.cryptoState === 'unlocked') break;
    await sleep(100);
  }
  d.check(now?.cryptoState === 'unlocked', `${name} is unlocked again`);
  vm = await d.show(name);
  d.say(`   center shows ${name}: ${vm.powerState}, ${vm.cryptoState}`);
  const after = await io.read(await d.nbdUri(name), 0, SECTOR);
  d.check(after.equals(guestSector(name)), 'the guest reads the same sector as before the restart');
}

async function demo(ctx: CommandContext): Promise<unknown> {
  const l = upLayout(dataDir(str(ctx.args, 'data'), ctx.env));
  const endpoints = readEndpoints(l);
  if (!endpoints || !isUpProcess(readPid(l.upPid))) {
    throw new UpError(
      'not_up',
      `cryptvisor is not up in ${l.data}: start it with "cryptvisor up --data ${l.data}" (or npm start) and wait for "ready"`,
    );
  }
  const d = new Demo(l, endpoints, ctx);
  const host = Object.keys(endpoints.hosts)[0];
  if (!host) throw new UpError('demo_failed', 'the system has no host');
  const name = await freeName(d);
  d.say(
    `cryptvisor demo: the eight steps of DESIGN §2 with VM ${name} on ${host} (center ${endpoints.center}, ${CENTER} data ${l.center})`,
  );
  let error: unknown;
  try {
    await run(d, name, host);
  } catch (err) {
    error = err;
  }
  d.say('');
  const removed = await d
    .cv(['vm', 'power-off', name])
    .catch(() => undefined)
    .then(() => d.cv(['vm', 'delete', name, '--yes']))
    .then(
      () => true,
      (err: unknown) => (d.say(`   ${(err as Error).message}`), false),
    );
  d.check(removed, `${name} removed; the system keeps running`);
  if (error) throw error;
  if (d.failures.length > 0)
    throw new UpError('demo_failed', `${d.failures.length} check(s) failed: ${d.failures.join('; ')}`);
  d.say('\nall eight steps hold');
  return undefined;
}

export const DEMO_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['demo'],
    summary: 'walk the eight steps of VM encryption on the running system (`cryptvisor up`), checking each',
    options: [
      {
        name: 'data',
        type: 'string',
        valueName: 'D',
        help: 'data directory of `cryptvisor up` (default $CRYPTVISOR_DATA, else ./.cryptvisor)',
      },
    ],
    run: demo,
  },
];

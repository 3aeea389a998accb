/**
 * The systemd unit files of contrib/systemd (docs/operations.md): each parses, carries the
 * hardening the services need (no core files, no new privileges, a read-only system, private
 * files), and runs a `cryptvisor … serve` command line that the real CLI accepts. Where
 * systemd-analyze is installed, `verify` reports nothing about them and `security --offline`
 * rates each one's exposure as low.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, runAsync } from '../support/cli.js';
import { needPeers } from '../support/peers.js';

const DIR = fileURLToPath(new URL('../../../contrib/systemd/', import.meta.url));
const UNITS = readdirSync(DIR)
  .filter((f) => f.endsWith('.service'))
  .sort();

type Unit = Map<string, Map<string, string[]>>;

/** systemd's unit syntax: [Section], Key=Value (a key may repeat), # and ; comments, \ continuation. */
function parseUnit(text: string, file: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const head = /^\[([A-Za-z]+)\]$/.exec(line);
    if (head) {
      section = new Map();
      unit.set(head[1] as string, section);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(kv && section, `${file}:${i + 1}: not "Key=Value" inside a section: ${line}`);
    const values = section.get(kv[1] as string) ?? [];
    values.push((kv[2] as string).trim());
    section.set(kv[1] as string, values);
  });
  return unit;
}

const one = (u: Unit, section: string, key: string): string | undefined => u.get(section)?.get(key)?.at(-1);

const HARDENING: Readonly<Record<string, string>> = {
  LimitCORE: '0',
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  UMask: '0077',
  CapabilityBoundingSet: '',
  RestrictSUIDSGID: 'yes',
  ProtectKernelModules: 'yes',
  SystemCallArchitectures: 'native',
};

test('there is a unit for each service: kms, center, agent', () => {
  assert.deepEqual(UNITS, [
    'cryptvisor-agent.service',
    'cryptvisor-center.service',
    'cryptvisor-kms.service',
  ]);
});

for (const file of UNITS) {
  test(`${file}: parses, is hardened, and its ExecStart is a command line the CLI accepts`, async () => {
    const u = parseUnit(readFileSync(join(DIR, file), 'utf8'), file);
    assert.deepEqual([...u.keys()], ['Unit', 'Service', 'Install']);
    assert.ok(one(u, 'Unit', 'Description'));
    assert.equal(one(u, 'Install', 'WantedBy'), 'multi-user.target');
    for (const [key, want] of Object.entries(HARDENING))
      assert.equal(one(u, 'Service', key), want, `${file}: ${key}=${want}`);
    assert.match(one(u, 'Service', 'User') ?? '', /^cryptvisor-/, 'a dedicated system user');
    assert.equal(one(u, 'Service', 'Restart'), 'on-failure');
    const svc = /^cryptvisor-(kms|center|agent)\.service$/.exec(file)?.[1] as string;
    assert.match(one(u, 'Service', 'StateDirectory') ?? '', new RegExp(`^cryptvisor/${svc}$`));

    const exec = (one(u, 'Service', 'ExecStart') ?? '').split(/\s+/);
    assert.equal(exec[0], '/usr/bin/node');
    assert.equal(exec[1], '/opt/cryptvisor/bin/cryptvisor.js');
    assert.deepEqual(exec.slice(2, 4), [svc, 'serve']);
    assert.equal(
      exec[exec.indexOf('--data') + 1],
      `/var/lib/cryptvisor/${svc}`,
      'the data directory is the StateDirectory',
    );
    // Every flag of the ExecStart line is one the real command documents.
    const help = await runAsync(process.execPath, [CLI, svc, 'serve', '--help']);
    assert.equal(help.status, 0, help.stderr);
    for (const flagName of exec.slice(4).filter((w) => w.startsWith('--'))) {
      assert.ok(help.stdout.toString().includes(`${flagName} `), `${svc} serve has ${flagName}`);
    }
  });
}

test('systemd-analyze verify finds nothing to report, and security --offline rates each unit OK', async (t) => {
  if (!needPeers(t, 'systemd-analyze')) return;
  for (const file of UNITS) {
    const path = join(DIR, file);
    const v = await runAsync('systemd-analyze', ['verify', path]);
    assert.equal(v.status, 0, v.stderr);
    assert.ok(!v.stderr.includes(file), `verify says nothing about ${file}: ${v.stderr}`);
    const s = await runAsync('systemd-analyze', ['security', '--offline=yes', path]);
    const level = /Overall exposure level for \S+: ([\d.]+)/.exec(s.stdout.toString() + s.stderr)?.[1];
    assert.ok(level !== undefined, s.stderr);
    assert.ok(Number(level) < 3, `${file}: exposure ${level} (< 3 is systemd's "OK")`);
  }
});

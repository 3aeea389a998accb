import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Schema } from './config.js';
import { CommonError } from './errors.js';

const schema: Schema = {
  port: { type: 'number', default: 5696, env: 'PORT', check: (v) => ((v as number) > 0 ? undefined : 'must be positive') },
  host: { type: 'string', default: '127.0.0.1' },
  sans: { type: 'string[]', default: ['localhost'] },
  strict: { type: 'boolean', default: true, env: 'STRICT' },
};

test('loadConfig merges defaults, file and env, then freezes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cv-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ host: '0.0.0.0', port: 1 }));
  const c = loadConfig<{ port: number; host: string; sans: string[]; strict: boolean }>({
    schema,
    file,
    env: { PORT: '7000', STRICT: 'false' },
  });
  assert.deepEqual(c, { port: 7000, host: '0.0.0.0', sans: ['localhost'], strict: false });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.sans));
});

test('loadConfig rejects unknown fields, bad types, bad JSON and failed checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cv-config-'));
  const cases: [string, string][] = [
    ['{"nope":1}', 'unknown field'],
    ['{"port":"x"}', 'type number'],
    ['{"port":-1}', 'must be positive'],
    ['{not json', 'not valid JSON'],
    ['[1]', 'JSON object'],
  ];
  for (const [text, msg] of cases) {
    const file = join(dir, 'c.json');
    writeFileSync(file, text);
    assert.throws(
      () => loadConfig({ schema, file }),
      (e: unknown) => e instanceof CommonError && e.code === 'config_invalid' && e.message.includes(msg),
      text,
    );
  }
  assert.throws(() => loadConfig({ schema, env: { PORT: 'abc' } }), /PORT must be a number/);
});

/**
 * The project's own KMS for tests that need real KEKs: started in-process on a free port over
 * mutual TLS, used through the project's KMIP client (KEKs never come from constants).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretBytes } from '../../src/crypto/index.js';
import { KmipClient } from '../../src/kmip/client.js';
import { initKms } from '../../src/kms/init.js';
import { startKms } from '../../src/kms/server.js';

export interface TestKms {
  readonly client: KmipClient;
  /** Create + Activate + Get of a fresh AES-256 KEK. */
  newKek(): Promise<{ keyId: string; key: SecretBytes }>;
  getKey(keyId: string): Promise<SecretBytes>;
  close(): Promise<void>;
}

export async function startTestKms(): Promise<TestKms> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-test-kms-'));
  const init = await initKms({ dataDir: dir, sans: ['127.0.0.1', 'localhost'] });
  const running = await startKms({ dataDir: dir, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  const [ca, cert, key] = await Promise.all([readFile(init.ca, 'utf8'), readFile(init.adminCert, 'utf8'), readFile(init.adminKey, 'utf8')]);
  const client = new KmipClient({ servers: [{ host: '127.0.0.1', port: running.port }], ca, cert, key, timeoutMs: 10_000 });
  const getKey = async (keyId: string) => (await client.get(keyId)).material;
  return {
    client,
    getKey,
    async newKek() {
      const keyId = await client.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'] });
      await client.activate(keyId);
      return { keyId, key: await getKey(keyId) };
    },
    async close() {
      client.close();
      await running.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

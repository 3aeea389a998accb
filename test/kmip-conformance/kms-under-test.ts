/**
 * A real KMS for tests: `initKms` (what `cryptvisor kms init` runs) on a temporary directory, then
 * `startKms` in this process on a free port, listening on 127.0.0.1. `service` is the same KMS
 * without the network (`handleBytes`), for in-process fuzzing. Client identities are issued from
 * the KMS's own CA (identities.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKms } from '../../src/kms/index.js';
import type { KmsService } from '../../src/kms/index.js';
import { initKms } from '../../src/kms/init.js';
import { IdentityFactory, identityFromFiles } from './identities.js';
import type { TlsIdentity } from './ttlv-socket.js';

export interface KmsUnderTest {
  readonly port: number;
  readonly dataDir: string;
  readonly pkiDir: string;
  /** The KMS administrator identity (`D/pki/admin.pem`). */
  readonly admin: TlsIdentity;
  readonly identities: IdentityFactory;
  readonly service: KmsService;
  close(): Promise<void>;
}

/**
 * `parentDir` places the data dir (default the system temp dir; the in-process fuzzer uses /dev/shm,
 * where fsync is cheap, so that 100,000 messages fit the test budget).
 */
export async function startTestKms(
  opts: { keepDir?: boolean; parentDir?: string; config?: Record<string, unknown> } = {},
): Promise<KmsUnderTest> {
  const dataDir = mkdtempSync(join(opts.parentDir ?? tmpdir(), 'cv-kms-test-'));
  try {
    await initKms({ dataDir, sans: ['localhost', '127.0.0.1'] });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const pkiDir = join(dataDir, 'pki');
  const kms = await startKms({ dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent', ...opts.config });
  const identities = await IdentityFactory.fromPkiDir(pkiDir);
  return {
    port: kms.port,
    dataDir,
    pkiDir,
    admin: identityFromFiles(pkiDir, 'admin'),
    identities,
    service: kms.service,
    close: async () => {
      await kms.close();
      if (!opts.keepDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Tests that run `cryptvisor up` at the same time (node --test runs files in parallel) would race
 * for the KMS's preferred port 5696: both see it free, both pick it, and one KMS can never bind.
 * A test that starts `up` holds 5696 itself for its duration (if another test already does, that
 * is as good), so every `up` under test picks a free port of its own.
 */
import { createServer, type Server } from 'node:net';
import type { TestContext } from 'node:test';

export const PREFERRED_KMS_PORT = 5696;

export async function holdPreferredKmsPort(t: TestContext): Promise<void> {
  const server: Server = createServer((s) => s.destroy());
  const held = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(PREFERRED_KMS_PORT, '127.0.0.1', () => resolve(true));
  });
  if (held) t.after(() => new Promise<void>((r) => server.close(() => r())));
}

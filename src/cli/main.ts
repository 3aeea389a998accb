/**
 * The `cryptvisor` entry point: the only place that reads process.env and process.argv.
 */
import { createRootLogger } from '../common/logging.js';
import { loadCommands } from './registry.js';
import { runCli } from './run.js';

const controller = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals++;
    if (signals > 1) process.exit(130);
    controller.abort();
  });
}

const logger = createRootLogger({ service: 'cli', level: process.env['CRYPTVISOR_LOG_LEVEL'] ?? 'warn' });
const argv = process.argv.slice(2);
const code = await runCli(await loadCommands(argv), argv, {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  isTTY: Boolean(process.stdout.isTTY),
  logger,
  signal: controller.signal,
});
logger.flush();
process.exitCode = code;

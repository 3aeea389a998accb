/** `cryptvisor agent init|serve`: the host agent (DESIGN.md §10). */
import { CommonError } from '../../common/errors.js';
import { initAgent, startAgent, type AgentInitResult } from '../../agent/index.js';
import { disableCoreDumps } from '../../common/core-dumps.js';
import { str, type CommandSpec } from '../command.js';

function port(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const p = Number(text);
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new CommonError('usage', `invalid port "${text}"`);
  return p;
}

export const AGENT_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['agent', 'init'],
    summary: 'create a host agent data directory; prints the enrollment token and certificate fingerprint',
    options: [
      { name: 'data', type: 'string', required: true, help: 'the agent data directory', valueName: 'D' },
      { name: 'datastore', type: 'string', required: true, help: 'the datastore directory (may be shared by hosts)', valueName: 'PATH' },
      { name: 'san', type: 'string', help: 'names of the agent certificate (default localhost,127.0.0.1,hostname)', valueName: 'LIST' },
      { name: 'port', type: 'string', help: 'port agent serve listens on (default: any free port)', valueName: 'P' },
    ],
    async run(ctx) {
      const san = str(ctx.args, 'san');
      const p = port(str(ctx.args, 'port'));
      return initAgent(str(ctx.args, 'data') as string, str(ctx.args, 'datastore') as string, {
        ...(san ? { sans: san.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        ...(p !== undefined ? { port: p } : {}),
      });
    },
    human: (r) => {
      const o = r as AgentInitResult;
      return [
        `agent initialized in ${o.dataDir} (host ${o.hostId}, datastore ${o.datastore})`,
        `enrollment token: ${o.enrollmentToken}   (shown once; give it to center's "host add")`,
        `fingerprint:      ${o.fingerprint}`,
      ].join('\n');
    },
  },
  {
    path: ['agent', 'serve'],
    summary: 'run the host agent until SIGINT or SIGTERM',
    options: [
      { name: 'data', type: 'string', required: true, help: 'the agent data directory', valueName: 'D' },
      { name: 'host', type: 'string', help: 'listen address (default from agent.json, 127.0.0.1)', valueName: 'H' },
      { name: 'port', type: 'string', help: 'listen port (default from agent.json)', valueName: 'P' },
    ],
    async run(ctx) {
      // No core file may hold this process's keys (docs/agent.md, "Crash dumps").
      const core = disableCoreDumps();
      if (!core.ok) ctx.logger.warn({ core }, 'core dumps could not be turned off (native addon missing?); run the agent with "ulimit -c 0"');
      const host = str(ctx.args, 'host');
      const p = port(str(ctx.args, 'port'));
      const agent = await startAgent({
        dataDir: str(ctx.args, 'data') as string,
        ...(host ? { host } : {}),
        ...(p !== undefined ? { port: p } : {}),
        logger: ctx.logger.child({ service: 'agent' }),
      });
      const removeCrashHandler = agent.dumps.installCrashHandler();
      ctx.stdout.write(ctx.json ? JSON.stringify({ url: agent.url, hostId: agent.hostId }) + '\n' : `agent ${agent.hostId} listening on ${agent.url}\n`);
      await new Promise<void>((res) => {
        if (ctx.signal.aborted) res();
        else ctx.signal.addEventListener('abort', () => res(), { once: true });
      });
      removeCrashHandler();
      await agent.close();
      return undefined;
    },
  },
];

/** The agent's configuration, `D/agent.json`, written by `agent init`. */
import { join } from 'node:path';
import { loadConfig, type Schema } from '../common/config.js';

export interface AgentConfig {
  readonly hostId: string;
  readonly datastore: string;
  readonly host: string;
  readonly port: number;
  /** After an unlock, VMs that were on resume ('resume') or stay off ('stay-off'). */
  readonly onUnlock: 'resume' | 'stay-off';
  readonly logLevel: string;
  /** Bytes per journalled step of encrypt, decrypt and deep rekey (default 4 MiB; 64 KiB to 16 MiB). */
  readonly conversionChunkBytes: number;
}

export const AGENT_SCHEMA: Schema = {
  hostId: { type: 'string', required: true },
  datastore: { type: 'string', required: true },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'number', default: 0, check: (v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) < 65536 ? undefined : 'must be a port number') },
  onUnlock: { type: 'string', default: 'resume', check: (v) => (v === 'resume' || v === 'stay-off' ? undefined : 'must be "resume" or "stay-off"') },
  logLevel: { type: 'string', default: 'info' },
  conversionChunkBytes: {
    type: 'number',
    default: 4 * 1024 * 1024,
    check: (v) => (Number.isInteger(v) && (v as number) % 4096 === 0 && (v as number) >= 65536 && (v as number) <= 16 * 1024 * 1024 ? undefined : 'must be a multiple of 4096 from 65536 to 16777216'),
  },
};

export function agentConfigPath(dataDir: string): string {
  return join(dataDir, 'agent.json');
}

export function loadAgentConfig(dataDir: string, overrides: Partial<AgentConfig> = {}): Readonly<AgentConfig> {
  return loadConfig<AgentConfig>({ schema: AGENT_SCHEMA, file: agentConfigPath(dataDir), overrides });
}

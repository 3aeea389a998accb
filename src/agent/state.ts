/**
 * What the agent remembers across restarts, in its data directory: which VM folders are
 * registered here and whether each was on (so it resumes after unlock). No key, no secret.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './datastore.js';
import { AgentError } from './errors.js';

export interface StateEntry {
  readonly dir: string;
  readonly wasOn: boolean;
}

export class AgentState {
  #vms: StateEntry[] = [];

  private constructor(private readonly file: string) {}

  static async load(dataDir: string): Promise<AgentState> {
    const s = new AgentState(join(dataDir, 'state.json'));
    try {
      const v = JSON.parse(await readFile(s.file, 'utf8')) as { vms?: unknown };
      if (!Array.isArray(v.vms)) throw new Error('vms is not an array');
      s.#vms = v.vms.filter((e): e is StateEntry => typeof (e as StateEntry).dir === 'string').map((e) => ({ dir: e.dir, wasOn: e.wasOn === true }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new AgentError('datastore_invalid', `agent state ${s.file} is damaged`, { cause: err });
      }
    }
    return s;
  }

  vms(): readonly StateEntry[] {
    return this.#vms;
  }

  async save(vms: readonly StateEntry[]): Promise<void> {
    this.#vms = [...vms];
    await writeFileAtomic(this.file, JSON.stringify({ vms: this.#vms }, null, 2) + '\n', 0o600);
  }
}

/** src/agent: the host agent service (docs/agent.md). */
export { AgentError, AGENT_ERROR_CODES, type AgentErrorCode } from './errors.js';
export { initAgent, type AgentInitResult } from './init.js';
export { startAgent, AGENT_VERSION, type RunningAgent, type StartAgentOptions } from './server.js';
export type { VmView, PowerState, CryptoState } from './vm-manager.js';
export { parseVmdkDescriptor } from './vmdk.js';
export { DumpWriter, readDump, splitDump, dumpFileId, DUMP_PURPOSE, DUMP_SUFFIX, type DumpInfo, type DumpMeta, type DumpSink } from './dumps.js';
export { sealDumpToPassword, readPasswordDump, PASSWORD_DUMP_PURPOSE } from './dump-password.js';

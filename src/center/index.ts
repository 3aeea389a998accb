export { Auth, TOKEN_PREFIX, tokenHash, type Principal } from './auth.js';
export { CenterClient, normalizeFingerprint, type CenterTrust } from './client.js';
export { loadCenterConfig, centerConfigPath, type CenterConfig } from './config.js';
export { CenterError, CenterRemoteError, CENTER_ERROR_KINDS, type CenterErrorCode } from './errors.js';
export { HostManager, hostView, type HeartbeatResult } from './hosts.js';
export { initCenter, type CenterInitOptions, type CenterInitResult } from './init.js';
export { hashPassword, verifyPassword, generatePassword } from './passwords.js';
export {
  CRYPTO_PRIVILEGES,
  OTHER_PRIVILEGES,
  ROLES,
  ROLE_PRIVILEGES,
  isRole,
  roleHas,
  type Privilege,
  type Role,
} from './privileges.js';
export {
  ProviderManager,
  parseServers,
  providerView,
  CLIENT_COMMON_NAME,
  type ProviderStatus,
  type ServerStatus,
} from './providers.js';
export { ROUTES, type Route } from './routes.js';
export { BUILTIN_POLICY, VmService, type VmJson } from './vms.js';
export { TaskService, type TaskContext, type TaskKind, type TaskRecord, type TaskState } from './tasks.js';
export { startCenter, CENTER_VERSION, type RunningCenter, type StartCenterOptions } from './server.js';
export {
  clearSession,
  connectCenter,
  passwordLogin,
  saveSession,
  sessionFile,
  type Env,
  type Session,
} from './session.js';

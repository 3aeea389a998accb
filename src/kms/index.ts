/** The KMS service (docs/kms.md). */
export { startKms, PKI_DIR } from './server.js';
export type { StartKmsOptions, RunningKms } from './server.js';
export { createKmsService, DEFAULT_SERVER_INFO } from './service.js';
export type { KmsService, KmsServiceDeps } from './service.js';
export { loadKmsConfig, KMS_CONFIG_SCHEMA } from './config.js';
export type { KmsConfig } from './config.js';
export { Dispatcher, SUPPORTED_VERSIONS } from './dispatch.js';
export type { AuditSink } from './dispatch.js';
export { identityOfCertificate, subjectOf, subjectOfPemFile, EKU_CLIENT_AUTH } from './identity.js';
export type { Identity } from './identity.js';
export { KmsMetrics } from './metrics.js';
export { PYKMIP_SUITES } from './transport/tls-server.js';

/** The agent API's OpenAPI document (served at /api/docs). */
const vmRef = { $ref: '#/components/schemas/Vm' };
const keyRef = {
  type: 'object',
  required: ['keyProviderId', 'keyId'],
  properties: { keyProviderId: { type: 'string' }, keyId: { type: 'string' } },
};
const ok = (schema: unknown) => ({ '200': { description: 'ok', content: { 'application/json': { schema } } } });
const body = (schema: unknown) => ({ required: true, content: { 'application/json': { schema } } });

/** The QEMU runtime of a VM (docs/agent.md, "VM runtime"). */
const vmRuntime = {
  type: 'object',
  properties: {
    qemu: { type: 'boolean' },
    kernel: { type: 'string', description: 'absolute path (direct kernel boot)' },
    initrd: { type: 'string' },
    append: { type: 'string' },
    memoryMiB: { type: 'integer', minimum: 1 },
    cpus: { type: 'integer', minimum: 1 },
  },
};

export const OPENAPI = Object.freeze({
  openapi: '3.0.3',
  info: {
    title: 'cryptvisor agent API',
    version: '1',
    description:
      'The host agent, called by center over HTTPS with mutual TLS. Errors are {"error":{"code","message"}} with the HTTP status of the code.',
  },
  paths: {
    '/api/v1/health': { get: { summary: 'liveness and host crypto state (no authentication)', responses: ok({ type: 'object' }) } },
    '/api/v1/enroll': {
      post: { summary: 'pin the calling client certificate as center, with the one-time token', requestBody: body({ type: 'object', required: ['token'], properties: { token: { type: 'string' } } }), responses: ok({ type: 'object' }) },
    },
    '/api/v1/info': { get: { summary: 'host ID, crypto state, version', responses: ok({ type: 'object' }) } },
    '/api/v1/keys': { get: { summary: 'IDs of the KEKs in memory', responses: ok({ type: 'object' }) } },
    '/api/v1/keys/{keyProviderId}/{keyId}': {
      put: { summary: 'push a KEK (base64, 32 bytes); unlocks the VMs that need it', requestBody: body({ type: 'object', required: ['key'], properties: { key: { type: 'string', format: 'byte' } } }), responses: ok({ type: 'object' }) },
      delete: { summary: 'drop a KEK from memory', responses: ok({ type: 'object' }) },
    },
    '/api/v1/needed-keys': { get: { summary: 'the KEKs the registered VMs need', responses: ok({ type: 'object' }) } },
    '/api/v1/missing-keys': { get: { summary: 'the needed KEKs this host does not hold now', responses: ok({ type: 'object' }) } },
    '/api/v1/host-key': { put: { summary: 'push the host key (seals crash dumps)', requestBody: body({ ...keyRef, properties: { ...keyRef.properties, key: { type: 'string', format: 'byte' } } }), responses: ok({ type: 'object' }) } },
    '/api/v1/certificate/renew': {
      post: {
        summary: 'issue, from the agent CA, a new key pair and server certificate with the subject and SANs of the served one, kept as pki/server.next.pem|key (replacing a not yet activated one); nothing served changes',
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { days: { type: 'integer', minimum: 1, maximum: 3650 } } } } } },
        responses: ok({ $ref: '#/components/schemas/Certificate' }),
      },
    },
    '/api/v1/certificate/activate': {
      post: {
        summary: 'serve the renewed certificate with this fingerprint (new connections; open ones finish); the fingerprint already served answers the same; any other: 400 invalid_request, nothing changed',
        requestBody: body({ type: 'object', required: ['fingerprint'], properties: { fingerprint: { type: 'string' } } }),
        responses: ok({ $ref: '#/components/schemas/Certificate' }),
      },
    },
    '/api/v1/dump': { post: { summary: 'write a sealed dump (diagnostic report and heap snapshot) under the host key; 423 host_key_missing without it', responses: ok({ type: 'object' }) } },
    '/api/v1/vms/{name}/disks': { post: { summary: 'add a disk to a powered-off VM (encrypted with a new DEK when the VM is)', requestBody: body({ type: 'object', required: ['sizeBytes'], properties: { sizeBytes: { type: 'integer' } } }), responses: ok({ type: 'object' }) } },
    '/api/v1/vms/{name}/disks/{id}/grow': { post: { summary: 'grow a disk of a powered-off VM to sizeBytes (never shrinks)', requestBody: body({ type: 'object', required: ['sizeBytes'], properties: { sizeBytes: { type: 'integer' } } }), responses: ok({ type: 'object' }) } },
    '/api/v1/vms': {
      get: { summary: 'registered VMs', responses: ok({ type: 'array', items: vmRef }) },
      post: { summary: 'create a VM', requestBody: body({ type: 'object', required: ['name', 'disks'], properties: { name: { type: 'string' }, disks: { type: 'array', items: { type: 'integer' } }, encryption: keyRef, runtime: vmRuntime } }), responses: ok(vmRef) },
    },
    '/api/v1/vms/import': { post: { summary: 'import a raw image or a VMDK monolithicFlat disk', requestBody: body({ type: 'object', required: ['name'], properties: { name: { type: 'string' }, raw: { type: 'string' }, vmdk: { type: 'string' }, encryption: keyRef } }), responses: ok(vmRef) } },
    '/api/v1/vms/register': { post: { summary: 'register a VM folder on this host', requestBody: body({ type: 'object', required: ['path'], properties: { path: { type: 'string' }, force: { type: 'boolean' } } }), responses: ok(vmRef) } },
    '/api/v1/vms/{name}': { get: { summary: 'one VM', responses: ok(vmRef) }, delete: { summary: 'delete a powered-off VM and its folder', responses: ok({ type: 'object' }) } },
    '/api/v1/vms/{name}/escrow': {
      get: { summary: "each disk's escrow keyslots and the escrow secret ID they were made from (no secret)", responses: ok({ type: 'object' }) },
      put: { summary: 'replace the escrow keyslots of every disk with one argon2id keyslot opened by this passphrase (optional argon2id costs)', requestBody: body({ type: 'object', required: ['escrowId', 'passphrase'], properties: { escrowId: { type: 'string' }, passphrase: { type: 'string', format: 'byte' }, argon2id: { type: 'object', properties: { time: { type: 'integer' }, memory: { type: 'integer' }, parallelism: { type: 'integer' } } } } }), responses: ok({ type: 'object' }) },
      delete: { summary: 'wipe every escrow keyslot of every disk', responses: ok({ type: 'object' }) },
    },
    '/api/v1/vms/{name}/clone': { post: { summary: 'clone a powered-off VM under its own KEK (target); newKeys: new DEKs, data re-encrypted', requestBody: body({ type: 'object', required: ['name'], properties: { name: { type: 'string' }, target: keyRef, newKeys: { type: 'boolean' } } }), responses: ok(vmRef) } },
    '/api/v1/vms/{name}/shred': { post: { summary: "crypto-shred on this host: power off, erase every keyslot, drop the VM's keys and DEKs", responses: ok({ type: 'object' }) } },
    '/api/v1/vms/{name}/{action}': {
      post: {
        summary: 'power-on (resumes a suspended VM), power-off, suspend and snapshot (state sealed under the home DEK; QEMU runtime only), unregister, encrypt (KEK ref), decrypt, rekey (KEK ref, deep: bool), forget. encrypt, decrypt and rekey are idempotent: asked again while the same conversion runs, the request waits for it; asked again once it is done, it returns the VM. A conversion keeps running when the caller disconnects.',
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' } } } },
        responses: ok(vmRef),
      },
    },
  },
  components: {
    schemas: {
      Certificate: {
        type: 'object',
        properties: { fingerprint: { type: 'string', description: 'SHA-256, AA:BB:…' }, notAfter: { type: 'string', format: 'date-time' } },
      },
      Vm: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          uuid: { type: 'string' },
          path: { type: 'string' },
          powerState: { enum: ['poweredOff', 'poweredOn', 'suspended'] },
          cryptoState: { enum: ['unlocked', 'locked'] },
          encrypted: { type: 'boolean' },
          keyProviderId: { type: 'string', nullable: true },
          keyId: { type: 'string', nullable: true },
          resumeOnUnlock: { type: 'boolean' },
          pending: { type: 'string', nullable: true },
          operation: { type: 'object', nullable: true, description: 'the conversion running now: kind (encrypt, decrypt, rekey-deep), done and total bytes', properties: { kind: { type: 'string' }, done: { type: 'integer' }, total: { type: 'integer' } } },
          disks: { type: 'array', items: { type: 'object' } },
        },
      },
    },
  },
});

/**
 * The store contract suite, run against every backend (sqlite.test.ts, test/kms-store-pg.test.ts).
 * A backend harness opens stores on one database and reads/writes the raw sealed column, so the
 * suite can check sealing without trusting the store's own read path.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RootKey } from '../root-key.js';
import { StoreError } from './errors.js';
import type { StoreBackend, StoredObject } from './types.js';

export interface StoreHarness {
  /** Opens (or reopens) the store of this test's database with a root key. */
  open(rootKey: RootKey): Promise<StoreBackend>;
  /** The sealed blob as stored in the material column. */
  rawMaterial(id: string): Promise<Buffer | null>;
  /** Overwrites the material column of one object. */
  setRawMaterial(id: string, blob: Buffer): Promise<void>;
}

/** Makes a fresh, empty database for one test and cleans it up after. */
export type HarnessFactory = (t: TestContext) => Promise<StoreHarness | undefined>;

let counter = 0;
function uuid(): string {
  counter++;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

export function sampleObject(over: Partial<StoredObject> = {}): StoredObject {
  return {
    id: uuid(),
    objectType: 'SymmetricKey',
    state: 'PreActive',
    owner: 'CN=center',
    names: [],
    algorithm: 'AES',
    attributes: { cryptographicLength: 256, usageMask: 12 },
    material: new Uint8Array(randomBytes(32)),
    revision: 1,
    ...over,
  };
}

function isStoreError(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof StoreError && e.code === code;
}

async function collect(store: StoreBackend): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const o of store.all()) out.push(o);
  return out;
}

/** Registers the contract tests for one backend. */
export function storeContract(backend: string, factory: HarnessFactory): void {
  const rootKey = RootKey.fromBytes(new Uint8Array(32).fill(7));

  async function withStore(
    t: TestContext,
    fn: (s: StoreBackend, h: StoreHarness) => Promise<void>,
  ): Promise<void> {
    const h = await factory(t);
    if (!h) return;
    const s = await h.open(rootKey);
    try {
      await fn(s, h);
    } finally {
      await s.close();
    }
  }

  test(`${backend}: insert and get round-trip every field; a duplicate id is refused`, (t) =>
    withStore(t, async (s) => {
      const a = sampleObject({
        names: ['vm-1 KEK', 'alias'],
        attributes: { x: [1, 'two', null], nested: { ok: true } },
      });
      await s.insert(a);
      assert.deepEqual(await s.get(a.id), { ...a, material: Buffer.from(a.material as Uint8Array) });
      const b = sampleObject({ objectType: 'OpaqueObject', algorithm: null, material: null });
      await s.insert(b);
      assert.deepEqual(await s.get(b.id), b);
      assert.equal(await s.get('no-such-id'), undefined);
      await assert.rejects(s.insert({ ...a, owner: 'CN=other' }), isStoreError('exists'));
      assert.equal((await s.get(a.id))?.owner, 'CN=center');
      const c = sampleObject();
      const both = await Promise.allSettled([s.insert(c), s.insert({ ...c, owner: 'CN=second' })]);
      assert.deepEqual(
        both.map((x) => x.status),
        ['fulfilled', 'rejected'],
      );
      assert.equal((await s.get(c.id))?.owner, 'CN=center');
    }));

  test(`${backend}: update is optimistic on revision`, (t) =>
    withStore(t, async (s) => {
      const a = sampleObject({ names: ['old'] });
      await s.insert(a);
      const a2 = { ...a, state: 'Active', names: ['new'], revision: 2 };
      await s.update(a2);
      assert.equal((await s.get(a.id))?.state, 'Active');
      await assert.rejects(s.update({ ...a, state: 'Deactivated', revision: 2 }), isStoreError('conflict'));
      await assert.rejects(s.update({ ...a, revision: 5 }), isStoreError('conflict'));
      await assert.rejects(s.update(sampleObject({ revision: 2 })), isStoreError('not_found'));
      assert.deepEqual(await s.locate({ name: 'old' }), []);
      assert.deepEqual(await s.locate({ name: 'new' }), [a.id]);
      await s.update({ ...a2, state: 'Destroyed', material: null, revision: 3 });
      const d = await s.get(a.id);
      assert.equal(d?.material, null);
      assert.equal(d?.revision, 3);
      // Two concurrent updates from the same revision: exactly one wins.
      const r = await Promise.allSettled([
        s.update({ ...a2, state: 'Compromised', revision: 4 }),
        s.update({ ...a2, state: 'Deactivated', revision: 4 }),
      ]);
      assert.deepEqual(r.map((x) => x.status).sort(), ['fulfilled', 'rejected']);
    }));

  test(`${backend}: locate filters, creation order, offset and limit`, (t) =>
    withStore(t, async (s) => {
      const objs = [
        sampleObject({ names: ['k1'], state: 'Active' }),
        sampleObject({ names: ['k2', 'shared'], owner: 'CN=other' }),
        sampleObject({ objectType: 'SecretData', algorithm: null, names: ['shared'] }),
        sampleObject({ algorithm: 'TripleDES', state: 'Active' }),
      ];
      for (const o of objs) await s.insert(o);
      const ids = objs.map((o) => o.id);
      assert.deepEqual(await s.locate({}), ids);
      assert.deepEqual(await s.locate({ name: 'shared' }), [ids[1], ids[2]]);
      assert.deepEqual(await s.locate({ state: 'Active' }), [ids[0], ids[3]]);
      assert.deepEqual(await s.locate({ objectType: 'SymmetricKey', algorithm: 'AES' }), [ids[0], ids[1]]);
      assert.deepEqual(await s.locate({ owner: 'CN=center', state: 'PreActive' }), [ids[2]]);
      assert.deepEqual(await s.locate({ offset: 1, limit: 2 }), [ids[1], ids[2]]);
      assert.deepEqual(await s.locate({ limit: 0 }), []);
      assert.deepEqual(await s.locate({ name: 'nothing' }), []);
      await assert.rejects(s.locate({ offset: -1 }), isStoreError('invalid_object'));
    }));

  test(`${backend}: concurrent writers are group-committed and all durable after reopen`, (t) =>
    withStore(t, async (s, h) => {
      const objs = Array.from({ length: 300 }, (_, i) => sampleObject({ names: [`bulk-${i % 7}`] }));
      await Promise.all(objs.map((o) => s.insert(o)));
      await s.close();
      const again = await h.open(rootKey);
      try {
        assert.deepEqual(
          await again.locate({}),
          objs.map((o) => o.id),
        );
        assert.equal(
          (await again.locate({ name: 'bulk-3' })).length,
          objs.filter((_, i) => i % 7 === 3).length,
        );
        const last = objs[299] as StoredObject;
        assert.deepEqual((await again.get(last.id))?.material, Buffer.from(last.material as Uint8Array));
      } finally {
        await again.close();
      }
    }));

  test(`${backend}: all() is a snapshot in creation order`, (t) =>
    withStore(t, async (s) => {
      const objs = Array.from({ length: 1100 }, () => sampleObject());
      await Promise.all(objs.map((o) => s.insert(o)));
      const it = s.all()[Symbol.asyncIterator]();
      const first = await it.next();
      await s.insert(sampleObject());
      const seen = [first.value as StoredObject];
      for (let n = await it.next(); !n.done; n = await it.next()) seen.push(n.value);
      assert.deepEqual(
        seen.map((o) => o.id),
        objs.map((o) => o.id),
      );
      assert.equal((await collect(s)).length, 1101);
    }));

  test(`${backend}: a write's audit record commits with it, and only when the write succeeds`, (t) =>
    withStore(t, async (s) => {
      const rec = { identity: 'CN=center', operation: 'Create', result: 'Success' };
      const a = sampleObject();
      const b = sampleObject();
      // Concurrent writes share one transaction; each carries its own record.
      await Promise.all([s.insert(a, rec), s.insert(b, rec)]);
      await assert.rejects(s.insert({ ...a, owner: 'CN=other' }, rec), isStoreError('exists'));
      await s.update({ ...a, state: 'Active', revision: 2 }, { ...rec, operation: 'Activate' });
      await assert.rejects(s.update({ ...a, revision: 2 }, { ...rec, operation: 'Revoke' }), isStoreError('conflict'));
      const recs = (await s.listAudit()).map((r) => `${r.operation} ${r.objectId}`);
      assert.deepEqual(recs.sort(), [`Activate ${a.id}`, `Create ${a.id}`, `Create ${b.id}`].sort());
    }));

  test(`${backend}: audit records append in order`, (t) =>
    withStore(t, async (s) => {
      await s.appendAudit([
        { identity: 'CN=center', operation: 'Create', objectId: 'a', result: 'Success' },
        { identity: 'CN=x', operation: 'Get', result: 'OperationFailed', reason: 'PermissionDenied' },
      ]);
      await s.appendAudit([
        { identity: 'CN=center', operation: 'Destroy', objectId: 'a', result: 'Success' },
      ]);
      const recs = await s.listAudit();
      assert.deepEqual(
        recs.map(({ seq: _s, at: _a, ...r }) => r),
        [
          { identity: 'CN=center', operation: 'Create', objectId: 'a', result: 'Success' },
          { identity: 'CN=x', operation: 'Get', result: 'OperationFailed', reason: 'PermissionDenied' },
          { identity: 'CN=center', operation: 'Destroy', objectId: 'a', result: 'Success' },
        ],
      );
      assert.ok(recs.every((r) => !Number.isNaN(Date.parse(r.at))));
      assert.deepEqual(
        (await s.listAudit({ afterSeq: (recs[0] as { seq: number }).seq, limit: 1 })).map((r) => r.operation),
        ['Get'],
      );
    }));

  test(`${backend}: material is sealed: not stored in clear, flipped byte, moved blob and wrong key fail`, (t) =>
    withStore(t, async (s, h) => {
      const a = sampleObject();
      const b = sampleObject();
      await s.insert(a);
      await s.insert(b);
      const blob = (await h.rawMaterial(a.id)) as Buffer;
      const plain = Buffer.from(a.material as Uint8Array);
      assert.ok(blob.length >= plain.length + 37);
      assert.equal(blob.indexOf(plain.subarray(0, 8)), -1);
      assert.equal(blob.toString('hex', 1, 9), rootKey.id);

      const flipped = Buffer.from(blob);
      flipped[30] = (flipped[30] as number) ^ 1;
      await h.setRawMaterial(a.id, flipped);
      await assert.rejects(s.get(a.id), isStoreError('unseal_failed'));

      await h.setRawMaterial(b.id, blob); // a's blob moved to b's row
      await assert.rejects(s.get(b.id), isStoreError('unseal_failed'));
      await h.setRawMaterial(a.id, blob);
      assert.deepEqual((await s.get(a.id))?.material, plain);

      await s.close();
      const other = RootKey.fromBytes(new Uint8Array(32).fill(9));
      const wrong = await h.open(other);
      try {
        await assert.rejects(wrong.get(a.id), isStoreError('root_key_unknown'));
      } finally {
        await wrong.close();
      }
    }));

  test(`${backend}: bad objects are refused and a closed store says so`, (t) =>
    withStore(t, async (s) => {
      await assert.rejects(s.insert(sampleObject({ id: '' })), isStoreError('invalid_object'));
      await assert.rejects(s.insert(sampleObject({ revision: 0 })), isStoreError('invalid_object'));
      await assert.rejects(
        s.insert(sampleObject({ names: [3 as unknown as string] })),
        isStoreError('invalid_object'),
      );
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      await assert.rejects(s.insert(sampleObject({ attributes: cyclic })), isStoreError('invalid_object'));
      await s.close();
      await assert.rejects(s.get('x'), isStoreError('closed'));
      await assert.rejects(s.insert(sampleObject()), isStoreError('closed'));
    }));
}

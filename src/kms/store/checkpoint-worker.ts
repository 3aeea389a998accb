/**
 * The KMS store's checkpointer thread (see checkpointer.ts): its own SQLite connection to the
 * store, which copies the WAL into the database (`PRAGMA wal_checkpoint(PASSIVE)`) each time the
 * main thread asks, so the event loop never waits on a checkpoint's copying and fsyncs.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const file = (workerData as { file: string }).file;
const db = new Database(file);
db.pragma('journal_mode = WAL');
// A checkpoint syncs the WAL before it copies and the database after (synchronous=NORMAL does).
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');

parentPort?.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort?.close();
    return;
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    parentPort?.postMessage({ ok: true, log: r?.log ?? 0 });
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});

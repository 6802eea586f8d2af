/**
 * Refusing a damaged store before the cluster opens it. SQLite treats an empty file as a new,
 * empty database, and a truncated or overwritten one may fail only when a damaged page is read —
 * so without this check a truncated `state.db` could come back silently empty (every object lost,
 * the file then overwritten), or fail later with "database disk image is malformed". The check
 * refuses such a file with a message saying what is wrong and what to do; it never changes the file.
 *
 * What it checks (cheapest first): a non-empty file, SQLite's 16-byte magic header, a file at
 * least as long as the page count its header declares (the header's count is valid when its
 * "version-valid-for" equals the change counter, offsets 92 and 24), then `PRAGMA quick_check`
 * (every page's b-tree structure; proportional to the file's size, a few ms for a typical cluster).
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StateError } from './state.js';

const MAGIC = 'SQLite format 3\0';

function damaged(path: string, detail: string): StateError {
  return new StateError('STATE_DB_CORRUPT', `the cluster's store ${path} is damaged: ${detail}. ` +
    'clusterip does not start on a damaged store (it would lose or overwrite what is left). ' +
    `To start with an empty store, move it away (its objects are lost): mv ${path} ${path}.damaged; ` +
    `rm -f ${path}-wal ${path}-shm — or put back a copy you trust.`);
}

/** Throws StateError STATE_DB_CORRUPT when the SQLite file at `path` exists and is damaged; a missing file is fine (a new store). */
export function checkStateDb(path: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (size === 0) throw damaged(path, 'the file is empty (0 bytes; truncated?)');
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  let n: number;
  try { n = readSync(fd, header, 0, 100, 0); } finally { closeSync(fd); }
  if (n < 100) throw damaged(path, `the file is ${size} bytes, shorter than SQLite's 100-byte header (truncated)`);
  if (header.toString('latin1', 0, 16) !== MAGIC) throw damaged(path, 'it is not a SQLite database (its header is not "SQLite format 3")');
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pageCount = header.readUInt32BE(28);
  const headerCountValid = header.readUInt32BE(92) === header.readUInt32BE(24);
  if (headerCountValid && pageCount > 0 && size < pageCount * pageSize) {
    throw damaged(path, `the file is ${size} bytes but its header counts ${pageCount} pages of ${pageSize} bytes ` +
      `(${pageCount * pageSize} bytes): it was truncated`);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    const rows = db.pragma('quick_check(5)') as { quick_check: string }[];
    const problems = rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
    if (problems.length) throw damaged(path, `SQLite's quick_check reports: ${problems.join('; ')}`);
  } catch (err) {
    if (err instanceof StateError) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) throw damaged(path, (err as Error).message);
    throw err;
  } finally {
    db?.close();
  }
}

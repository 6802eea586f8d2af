/**
 * The state directory's lock: one daemon at a time per state directory (two would write the same
 * SQLite store and build the same namespaces).
 *
 * It is a kernel lock, so it cannot lie: a POSIX record lock (fcntl) on `<stateDir>/lock`, which the
 * kernel drops when its holder dies in any way (kill -9 included) and which a re-used pid cannot
 * inherit. The holder's pid comes from the kernel too (/proc/locks), not from a pid file.
 *
 * Why SQLite: Node has no flock/fcntl API, and a native addon only for a lock would be a second
 * native dependency. better-sqlite3 is already here, and SQLite's exclusive transaction is exactly
 * an fcntl write lock held for as long as the connection keeps the transaction open. The lock file
 * is an empty SQLite database; nothing is ever written to it.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from './state.js';

/** A held lock; `release()` ends it (process exit does too). */
export interface StateDirLock {
  readonly path: string;
  release(): void;
}

/** The lock file of a state directory. */
export function lockPath(stateDir: string): string {
  return join(stateDir, 'lock');
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

/**
 * The pid holding a lock on `path`, read from the kernel's /proc/locks (the file's device and inode
 * identify it), or undefined when nobody holds one.
 */
export function lockHolder(path: string): number | undefined {
  let st;
  try { st = statSync(path); } catch { return undefined; }
  // /proc/locks names a file as MAJOR:MINOR:INODE with major and minor in hex (Linux dev_t split).
  const major = Number((BigInt(st.dev) >> 8n) & 0xfffn | ((BigInt(st.dev) >> 32n) & ~0xfffn));
  const minor = Number((BigInt(st.dev) & 0xffn) | ((BigInt(st.dev) >> 12n) & ~0xffn));
  const locks = readFileSync('/proc/locks', 'utf8');
  for (const line of locks.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 4677 fe:00:2154721 1073741824 1073742335" ("->" marks waiters)
    const f = line.trim().split(/\s+/);
    if (f[1] === '->') continue;
    const [maj, min, ino] = (f[5] ?? '').split(':');
    if (ino === String(st.ino) && parseInt(maj!, 16) === major && parseInt(min!, 16) === minor) return Number(f[4]);
  }
  return undefined;
}

/**
 * Takes the lock of `stateDir` (created if needed), waiting up to `waitMs` for a holder that is
 * about to let go. Throws StateError STATE_DIR_LOCKED naming the holder's pid.
 */
export async function lockStateDir(stateDir: string, opts: { waitMs?: number } = {}): Promise<StateDirLock> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = lockPath(stateDir);
  // Loaded here, not at the top: `up --detach`'s parent, `list` and `status` only read the holder.
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path, { timeout: opts.waitMs ?? 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if (!isBusy(err)) throw err;
    const pid = lockHolder(path);
    throw new StateError('STATE_DIR_LOCKED', `state directory ${stateDir} is in use by another clusterip daemon` +
      `${pid ? ` (pid ${pid})` : ''}; stop it with 'clusterip down --state-dir ${stateDir}', or choose another --state-dir`);
  }
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      try { db.exec('ROLLBACK'); } catch { /* the close below ends it anyway */ }
      db.close();
    },
  };
}

/** The pid of the daemon that holds `stateDir`'s lock, or undefined when none does. */
export function stateDirHolder(stateDir: string): number | undefined {
  return lockHolder(lockPath(stateDir));
}

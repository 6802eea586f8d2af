/**
 * The kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): a volume directory whose files
 * change all at once. The data lives in a timestamped directory `..2026_12_06_21_42_46.123456789`;
 * `..data` is a symlink to the current one; every user-visible top-level entry is a symlink through
 * `..data` (`token → ..data/token`). An update writes a new timestamped directory, then swaps
 * `..data` with one rename (atomic), then removes the old directory and entries no longer in the
 * payload — so a reader (a Python client re-reading its token, nginx re-reading a ConfigMap) never
 * sees half an update. Writing an unchanged payload changes nothing.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

/** One file of a payload: its bytes and mode (e.g. 0o644 from defaultMode 420). */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

const DATA_DIR = '..data';
const DATA_TMP = '..data_tmp';

/** validatePath: relative, no `..` element, not starting with `..`, at most 4096 bytes. */
export function validatePayloadPath(p: string): string | undefined {
  if (p === '') return 'invalid path: must not be empty';
  if (Buffer.byteLength(p) > 4096) return `invalid path: must be less than or equal to 4096 characters`;
  if (posix.isAbsolute(p)) return `invalid path: must be relative path: ${p}`;
  const items = p.split('/');
  for (const item of items) if (item === '..') return `invalid path: must not contain '..': ${p}`;
  if (items[0]!.startsWith('..')) return `invalid path: must not start with '..': ${p}`;
  return undefined;
}

/** The timestamp prefix of a data directory, as Go formats `..2006_01_02_15_04_05.`. */
function tsPrefix(now: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

async function currentPayloadEquals(dir: string, payload: ReadonlyMap<string, FileProjection>): Promise<boolean> {
  let target: string;
  try { target = await readlink(join(dir, DATA_DIR)); } catch { return false; }
  const base = join(dir, target);
  const seen: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(base, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r); else seen.push(r);
    }
  };
  try { await walk(''); } catch { return false; }
  if (seen.length !== payload.size) return false;
  for (const [p, f] of payload) {
    try {
      const st = await lstat(join(base, p));
      if ((st.mode & 0o7777) !== f.mode) return false;
      if (!(await readFile(join(base, p))).equals(f.data)) return false;
    } catch { return false; }
  }
  return true;
}

/**
 * Writes `payload` (relative path → file) into `dir` atomically. Returns false when the directory
 * already held exactly this payload (nothing was written). Throws for an invalid path.
 */
export async function writeAtomic(dir: string, payload: ReadonlyMap<string, FileProjection>, now: Date = new Date()): Promise<boolean> {
  for (const p of payload.keys()) {
    const err = validatePayloadPath(p);
    if (err) throw new Error(err);
  }
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if (await currentPayloadEquals(dir, payload)) return false;
  let old: string | undefined;
  try { old = await readlink(join(dir, DATA_DIR)); } catch { /* first write */ }

  const tsDir = await mkdtemp(join(dir, tsPrefix(now)));
  await chmod(tsDir, 0o755);
  for (const [p, f] of payload) {
    const full = join(tsDir, p);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.data);
    await chmod(full, f.mode);
  }
  // The user-visible entries: one symlink per top-level name, through ..data.
  const tops = new Set([...payload.keys()].map((p) => p.split('/')[0]!));
  for (const top of tops) {
    const link = join(dir, top);
    try {
      const st = await lstat(link);
      if (st.isSymbolicLink() && (await readlink(link)) === join(DATA_DIR, top)) continue;
      await rm(link, { recursive: true, force: true });
    } catch { /* absent */ }
    await symlink(join(DATA_DIR, top), link);
  }
  // The swap: a new symlink renamed over ..data.
  await rm(join(dir, DATA_TMP), { force: true });
  await symlink(tsDir.slice(dir.length + 1), join(dir, DATA_TMP));
  await rename(join(dir, DATA_TMP), join(dir, DATA_DIR));
  if (old && old !== tsDir.slice(dir.length + 1)) await rm(join(dir, old), { recursive: true, force: true });
  // Entries of the old payload that are gone.
  for (const e of await readdir(dir)) {
    if (e.startsWith('..') || tops.has(e)) continue;
    await rm(join(dir, e), { recursive: true, force: true });
  }
  return true;
}

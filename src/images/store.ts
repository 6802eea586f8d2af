/**
 * The image store: content-addressed, shared by every cluster on the machine (default
 * /var/lib/clusterip/images), safe for several processes at once.
 *
 *   <root>/index.db     SQLite (WAL): images (by the digest their reference resolved to), their
 *                       names, and layers (by diff_id). Its transactions are what makes concurrent
 *                       pulls, `image rm` and GC from several daemons safe.
 *   <root>/layers/<N>/  one unpacked layer, N its row id (short, so overlayfs's one-page mount
 *                       options hold ~100 layers), in the form overlayfs reads as a lower layer.
 *   <root>/tmp/<pid>-…  work in progress; a layer appears under layers/ only complete and verified
 *                       (rename), so nothing half-unpacked is ever used or kept. A dead process's
 *                       leftovers are removed at the next open.
 *
 * A layer is unpacked once, whatever images share it. Containers use them read-only as overlayfs
 * lower layers; whether a layer is in use is read from the kernel's mount table
 * (/proc/self/mountinfo), so it holds for every cluster's containers and survives any crash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { ImageError } from './errors.js';
import type { ImageConfig } from './manifest.js';
import { planImageGC, type GCPolicy } from './gc.js';

/** An image in the store. */
export interface StoredImage {
  /** What its reference resolved to: the index or manifest digest (the repo digest). */
  digest: string;
  /** The manifest of this platform. */
  manifestDigest: string;
  /** The config's digest (Docker's "image ID"). */
  configDigest: string;
  config: ImageConfig;
  /** Layers bottom to top. */
  diffIds: string[];
  /** Bytes as the registry stores it (config + compressed layers): what the kubelet reports. */
  size: number;
  /** Normalized names pointing here (`docker.io/library/nginx:1.27`, `…@sha256:…`). */
  names: string[];
  created: number;
  lastUsed: number;
}

interface ImageRow {
  digest: string; manifest_digest: string; config_digest: string; config: string; diff_ids: string; size: number; created: number; last_used: number;
}

/** Default location (root only: it is shared by every cluster on the machine). */
export const DEFAULT_IMAGE_STORE = '/var/lib/clusterip/images';

/** Kubelet defaults: imageGCHighThresholdPercent, imageGCLowThresholdPercent, imageMinimumGCAge. */
export const KUBELET_GC_POLICY: GCPolicy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 2 * 60_000 };

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export class ImageStore {
  private readonly db: Database.Database;
  readonly layersDir: string;
  readonly tmpDir: string;

  private constructor(readonly root: string) {
    this.layersDir = path.join(root, 'layers');
    this.tmpDir = path.join(root, 'tmp');
    fs.mkdirSync(this.layersDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    this.db = new Database(path.join(root, 'index.db'), { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS layers (id INTEGER PRIMARY KEY AUTOINCREMENT, diff_id TEXT UNIQUE NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS images (digest TEXT PRIMARY KEY, manifest_digest TEXT NOT NULL, config_digest TEXT NOT NULL, config TEXT NOT NULL,
        diff_ids TEXT NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL, last_used INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS names (name TEXT PRIMARY KEY, digest TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS names_digest ON names(digest);
    `);
    this.removeDeadWork();
  }

  /** Opens (creating) the store at `root`. */
  static open(root = DEFAULT_IMAGE_STORE): ImageStore {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    return new ImageStore(root);
  }

  close(): void {
    this.db.close();
  }

  /** Work dirs of processes that died mid-pull; layer dirs no row names (a crash between rename and commit). */
  private removeDeadWork(): void {
    for (const d of fs.readdirSync(this.tmpDir)) {
      const pid = Number(d.split('-')[0]);
      if (!pid || !pidAlive(pid)) fs.rmSync(path.join(this.tmpDir, d), { recursive: true, force: true });
    }
    const known = new Set((this.db.prepare('SELECT id FROM layers').all() as { id: number }[]).map((r) => String(r.id)));
    const mounted = this.mountedLayerIds();
    for (const d of fs.readdirSync(this.layersDir)) {
      if (!known.has(d) && !mounted.has(Number(d))) this.discard(path.join(this.layersDir, d));
    }
  }

  /** A private empty work dir under tmp/ (named after this process, so a later open can clean it). */
  workDir(): string {
    const d = path.join(this.tmpDir, `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
    fs.mkdirSync(d, { mode: 0o755 });
    return d;
  }

  /** Removes a directory tree by renaming it into tmp first (it disappears at once, atomically). */
  private discard(dir: string): void {
    const gone = path.join(this.tmpDir, `${process.pid}-rm-${Math.random().toString(36).slice(2, 10)}`);
    try { fs.renameSync(dir, gone); } catch { return; }
    fs.rmSync(gone, { recursive: true, force: true });
  }

  private toImage(r: ImageRow): StoredImage {
    const names = (this.db.prepare('SELECT name FROM names WHERE digest = ? ORDER BY name').all(r.digest) as { name: string }[]).map((n) => n.name);
    return {
      digest: r.digest, manifestDigest: r.manifest_digest, configDigest: r.config_digest, config: JSON.parse(r.config) as ImageConfig,
      diffIds: JSON.parse(r.diff_ids) as string[], size: r.size, names, created: r.created, lastUsed: r.last_used,
    };
  }

  /** The image a normalized name points to (or, for `sha256:…`, the image with that digest, config or manifest digest). */
  resolve(name: string): StoredImage | undefined {
    let row: ImageRow | undefined;
    if (/^sha256:[a-f0-9]{64}$/.test(name)) {
      row = this.db.prepare('SELECT * FROM images WHERE digest = ? OR config_digest = ? OR manifest_digest = ?').get(name, name, name) as ImageRow | undefined;
    } else {
      row = this.db.prepare('SELECT images.* FROM names JOIN images ON images.digest = names.digest WHERE names.name = ?').get(name) as ImageRow | undefined;
    }
    if (!row) return undefined;
    const img = this.toImage(row);
    // Usable only if every layer is there (a layer removed by hand makes the image absent).
    return img.diffIds.every((d) => this.layerId(d) !== undefined) ? img : undefined;
  }

  /** All images, most recently used first. */
  list(): StoredImage[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY last_used DESC').all() as ImageRow[]).map((r) => this.toImage(r));
  }

  private layerId(diffId: string): number | undefined {
    return (this.db.prepare('SELECT id FROM layers WHERE diff_id = ?').get(diffId) as { id: number } | undefined)?.id;
  }

  hasLayer(diffId: string): boolean {
    return this.layerId(diffId) !== undefined;
  }

  /** The unpacked layer directories of `img`, bottom to top. */
  layerDirs(img: StoredImage): string[] {
    return img.diffIds.map((d) => {
      const id = this.layerId(d);
      if (id === undefined) throw new ImageError('NOT_PRESENT', `layer ${d} of ${img.names[0] ?? img.digest} is not in the store`);
      return path.join(this.layersDir, String(id));
    });
  }

  /**
   * Adds a layer: `fill(dir)` unpacks into a private work dir; on success it becomes layers/<N> in
   * one rename and one transaction. When another process committed the same layer meanwhile,
   * ours is dropped. On failure the work dir is removed: nothing half-unpacked remains.
   */
  async addLayer(diffId: string, fill: (dir: string) => Promise<{ size: number }>): Promise<void> {
    if (this.hasLayer(diffId)) return;
    const work = this.workDir();
    const dir = path.join(work, 'fs');
    fs.mkdirSync(dir, { mode: 0o755 });
    try {
      const { size } = await fill(dir);
      const commit = this.db.transaction(() => {
        if (this.layerId(diffId) !== undefined) return false;
        const id = Number(this.db.prepare('INSERT INTO layers (diff_id, size, created) VALUES (?, ?, ?)').run(diffId, size, Date.now()).lastInsertRowid);
        fs.renameSync(dir, path.join(this.layersDir, String(id)));
        return true;
      });
      commit.immediate();
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  /** Records an image whose layers are all present, and points `names` at it. */
  putImage(img: Omit<StoredImage, 'names' | 'created' | 'lastUsed'>, names: readonly string[]): StoredImage {
    const now = Date.now();
    const put = this.db.transaction(() => {
      for (const d of img.diffIds) if (this.layerId(d) === undefined) throw new ImageError('STORE', `layer ${d} is missing`);
      this.db.prepare(`INSERT INTO images (digest, manifest_digest, config_digest, config, diff_ids, size, created, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(digest) DO UPDATE SET last_used = excluded.last_used`).run(
        img.digest, img.manifestDigest, img.configDigest, JSON.stringify(img.config), JSON.stringify(img.diffIds), img.size, now, now);
      for (const n of names) this.db.prepare('INSERT INTO names (name, digest) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET digest = excluded.digest').run(n, img.digest);
    });
    put.immediate();
    return this.resolve(img.digest)!;
  }

  /** Marks an image used now (image GC removes the least recently used first). */
  touch(digest: string): void {
    this.db.prepare('UPDATE images SET last_used = ? WHERE digest = ?').run(Date.now(), digest);
  }

  /** The layer chains (row ids, top first) of every overlay mount on this machine (any cluster's container). */
  mountedChains(): number[][] {
    const chains: number[][] = [];
    let text = '';
    try { text = fs.readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return chains; }
    const prefix = `${this.layersDir}/`;
    for (const line of text.split('\n')) {
      const sep = line.indexOf(' - ');
      if (sep < 0) continue;
      const [fstype, , opts] = line.slice(sep + 3).split(' ');
      if (fstype !== 'overlay' || !opts) continue;
      const lower = /(?:^|,)lowerdir=([^,]*)/.exec(opts)?.[1];
      // mountinfo escapes spaces etc. as \040; our paths have none.
      const ids = (lower ?? '').split(/::?/).filter((l) => l.startsWith(prefix)).map((l) => Number(l.slice(prefix.length).split('/')[0]));
      if (ids.length) chains.push(ids);
    }
    return chains;
  }

  /** Row ids of layers some overlay mount uses now. */
  mountedLayerIds(chains = this.mountedChains()): Set<number> {
    return new Set(chains.flat());
  }

  /** True when a container on this machine runs from `img` (a mount has exactly its layers). */
  inUse(img: StoredImage, chains = this.mountedChains()): boolean {
    const ids = img.diffIds.map((d) => this.layerId(d)).reverse().join(',');
    return chains.some((c) => c.join(',') === ids);
  }

  /**
   * Removes names (a name, or a digest: every name of that image). An image left without names is
   * deleted, and so are layers no image uses any more. Refuses an image a container uses.
   */
  remove(nameOrDigest: string): { names: string[]; images: string[]; layers: number } {
    const img = this.resolveAny(nameOrDigest);
    if (!img) throw new ImageError('NOT_PRESENT', `image "${nameOrDigest}" is not in the store`);
    if (this.inUse(img)) throw new ImageError('IN_USE', `image "${nameOrDigest}" is in use by a container; delete its Pods first`);
    const names = /^sha256:/.test(nameOrDigest) ? img.names : [nameOrDigest];
    const images: string[] = [];
    this.db.transaction(() => {
      for (const n of names) this.db.prepare('DELETE FROM names WHERE name = ?').run(n);
      const left = (this.db.prepare('SELECT COUNT(*) AS n FROM names WHERE digest = ?').get(img.digest) as { n: number }).n;
      if (left === 0) { this.db.prepare('DELETE FROM images WHERE digest = ?').run(img.digest); images.push(img.digest); }
    }).immediate();
    return { names, images, layers: this.pruneLayers(0) };
  }

  /** Like resolve, but also finds an image whose layers are incomplete (so it can be removed). */
  private resolveAny(name: string): StoredImage | undefined {
    const row = /^sha256:[a-f0-9]{64}$/.test(name)
      ? this.db.prepare('SELECT * FROM images WHERE digest = ? OR config_digest = ? OR manifest_digest = ?').get(name, name, name)
      : this.db.prepare('SELECT images.* FROM names JOIN images ON images.digest = names.digest WHERE names.name = ?').get(name);
    return row ? this.toImage(row as ImageRow) : undefined;
  }

  /**
   * Deletes layers no image references and no mount uses, created more than `minAgeMs` ago (a pull
   * in progress has committed layers but not yet its image). Returns how many went.
   */
  pruneLayers(minAgeMs: number, now = Date.now()): number {
    const mounted = this.mountedLayerIds();
    const dirs: string[] = [];
    this.db.transaction(() => {
      const used = new Set<string>();
      for (const r of this.db.prepare('SELECT diff_ids FROM images').all() as { diff_ids: string }[]) for (const d of JSON.parse(r.diff_ids) as string[]) used.add(d);
      for (const l of this.db.prepare('SELECT id, diff_id, created FROM layers').all() as { id: number; diff_id: string; created: number }[]) {
        if (used.has(l.diff_id) || mounted.has(l.id) || now - l.created < minAgeMs) continue;
        this.db.prepare('DELETE FROM layers WHERE id = ?').run(l.id);
        dirs.push(path.join(this.layersDir, String(l.id)));
      }
    }).immediate();
    for (const d of dirs) this.discard(d);
    return dirs.length;
  }

  /** Bytes the layers of `img` take (approximately: their tar sizes). */
  private layerBytes(diffIds: readonly string[]): number {
    let n = 0;
    for (const d of diffIds) n += (this.db.prepare('SELECT size FROM layers WHERE diff_id = ?').get(d) as { size: number } | undefined)?.size ?? 0;
    return n;
  }

  /**
   * Image garbage collection as the kubelet does it: when the filesystem holding the store is
   * above `highThresholdPercent` used, the least recently used images no container uses (and older
   * than `minAgeMs`) are deleted until usage would be at `lowThresholdPercent`.
   */
  gc(policy: GCPolicy = KUBELET_GC_POLICY, opts: { now?: number; fsStats?: { capacity: number; available: number } } = {}): { removed: string[]; freed: number; usagePercent: number } {
    const now = opts.now ?? Date.now();
    const st = opts.fsStats ?? (() => { const s = fs.statfsSync(this.root); return { capacity: s.blocks * s.bsize, available: s.bavail * s.bsize }; })();
    const chains = this.mountedChains();
    const images = this.list();
    // Bytes freed by deleting an image: its layers no other image shares.
    const shared = new Map<string, number>();
    for (const i of images) for (const d of new Set(i.diffIds)) shared.set(d, (shared.get(d) ?? 0) + 1);
    const plan = planImageGC(images.map((i) => ({
      digest: i.digest, lastUsed: i.lastUsed, created: i.created, inUse: this.inUse(i, chains),
      bytes: this.layerBytes(i.diffIds.filter((d) => shared.get(d) === 1)),
    })), st, policy, now);
    for (const digest of plan.remove) {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM names WHERE digest = ?').run(digest);
        this.db.prepare('DELETE FROM images WHERE digest = ?').run(digest);
      }).immediate();
    }
    if (plan.remove.length) this.pruneLayers(policy.minAgeMs, now);
    return { removed: plan.remove, freed: plan.freed, usagePercent: plan.usagePercent };
  }
}

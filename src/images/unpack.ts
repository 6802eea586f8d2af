/**
 * Unpacks one layer (a tar, gzip- or zstd-compressed or not) into a directory in the form
 * overlayfs reads as a lower layer, verifying both digests on the way, in one pass over the bytes:
 * the compressed stream hashes to the descriptor's digest (what the registry named it by) and the
 * uncompressed tar to the config's diff_id (what the image's rootfs is made of).
 *
 * Whiteouts (OCI image spec, "Representing Changes"): `.wh.<name>` hides `<name>` of lower layers
 * and becomes what overlayfs takes as a whiteout, a character device 0/0; `.wh..wh..opq` makes its
 * directory opaque (nothing of lower layers shows through), which overlayfs reads from the xattr
 * `trusted.overlay.opaque=y`. Node has neither mknod nor setxattr, so both are made with `mknod`
 * (coreutils) and `setfattr` (Debian's attr) in one shell after extraction.
 *
 * Everything else is node-tar's (`tar` on npm, npm's own): it refuses paths that leave the
 * directory (absolute paths, `..`, writing through symlinks), and keeps owners (we are root),
 * modes and times. Device nodes in a layer are skipped (runc makes /dev); extended attributes
 * (file capabilities) are not restored — a documented limit.
 *
 * If anything fails, the caller removes the directory: a half-unpacked layer is never kept.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { ImageError } from './errors.js';

/** What the bytes must be. */
export interface LayerExpectation {
  /** sha256 of the compressed blob (the manifest's layer digest); undefined: not checked. */
  digest?: string;
  /** Its size in bytes (the descriptor's). */
  size?: number;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string;
  compression: 'gzip' | 'zstd' | 'none';
  /** For messages: `layer 2/5 sha256:…`. */
  what: string;
}

/** Unpacks `src` into `dir` (which must exist, empty). Returns the tar's size. */
export async function unpackLayer(src: Readable, dir: string, want: LayerExpectation): Promise<{ size: number }> {
  const hashC = createHash('sha256');
  const hashU = createHash('sha256');
  let nC = 0;
  let nU = 0;
  const whiteouts: string[] = [];
  const opaque: string[] = [];
  const problems: string[] = [];
  const { input: decompress, output } = decompressor(want.compression);
  const extract = tar.x({
    cwd: dir, preserveOwner: true, chmod: true, processUmask: 0, strict: false, maxDepth: 4096,
    filter: (p) => {
      const rel = cleanPath(p);
      if (rel === undefined) { problems.push(`path ${JSON.stringify(p)} leaves the layer`); return false; }
      const base = path.posix.basename(rel);
      if (base === '.wh..wh..opq') { opaque.push(path.posix.dirname(rel)); return false; }
      if (base.startsWith('.wh.')) { whiteouts.push(path.posix.join(path.posix.dirname(rel), base.slice(4))); return false; }
      return true;
    },
    onwarn: (code, message) => {
      // Device nodes and FIFOs are skipped on purpose (runc populates /dev); anything else is a
      // layer this store cannot reproduce faithfully.
      if (code !== 'TAR_ENTRY_UNSUPPORTED') problems.push(`${code}: ${message}`);
    },
  }) as unknown as Writable & NodeJS.EventEmitter;

  // Downstream: decompressed bytes → diff_id hash → node-tar.
  const downstream = new Promise<void>((resolve, reject) => {
    output.on('data', (c: Buffer) => {
      hashU.update(c);
      nU += c.length;
      if (!extract.write(c)) output.pause();
    });
    extract.on('drain', () => output.resume());
    output.on('end', () => extract.end());
    output.on('error', reject);
    extract.on('error', reject);
    extract.on('close', () => resolve());
  });
  let downErr: unknown;
  downstream.catch((e: unknown) => { downErr ??= e; });

  // Upstream: every compressed byte is hashed, even after a downstream failure, so a corrupt blob
  // is reported as the digest mismatch it is, not as whatever the decompressor tripped over.
  try {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      hashC.update(chunk);
      nC += chunk.length;
      if (want.size !== undefined && nC > want.size) {
        src.destroy();
        throw new ImageError('DIGEST_MISMATCH', `${want.what}: more data than the ${want.size} bytes its descriptor gives`);
      }
      if (downErr === undefined && !decompress.destroyed) {
        if (!decompress.write(chunk)) await Promise.race([new Promise((r) => decompress.once('drain', r)), downstream.catch(() => undefined)]);
      }
    }
  } catch (e) {
    decompress.destroy();
    (extract as unknown as { abort?(e: Error): void }).abort?.(e as Error);
    if (e instanceof ImageError) throw e;
    throw new ImageError('NETWORK', `${want.what}: download failed: ${(e as Error).message}`);
  }
  if (!decompress.destroyed) decompress.end();
  await downstream.catch(() => undefined);
  const digest = `sha256:${hashC.digest('hex')}`;
  if (want.digest && digest !== want.digest) {
    throw new ImageError('DIGEST_MISMATCH', `${want.what}: failed commit on ref: unexpected commit digest ${digest}, expected ${want.digest}: failed precondition`);
  }
  if (want.size !== undefined && nC !== want.size) {
    throw new ImageError('DIGEST_MISMATCH', `${want.what}: got ${nC} bytes, the descriptor says ${want.size}`);
  }
  if (downErr !== undefined) throw new ImageError('INVALID', `${want.what}: cannot unpack: ${(downErr as Error).message}`);
  const diffId = `sha256:${hashU.digest('hex')}`;
  if (diffId !== want.diffId) {
    throw new ImageError('DIGEST_MISMATCH', `${want.what}: the uncompressed layer is ${diffId}, the image config says ${want.diffId}`);
  }
  if (problems.length) throw new ImageError('INVALID', `${want.what}: ${problems.slice(0, 3).join('; ')}`);
  await applyWhiteouts(dir, whiteouts, opaque);
  return { size: nU };
}

/** `./a/../b` → `b`; undefined for a path that leaves the root. */
function cleanPath(p: string): string | undefined {
  const n = path.posix.normalize(p.replace(/^\/+/, ''));
  if (n === '..' || n.startsWith('../')) return undefined;
  return n === '.' ? '' : n.replace(/\/+$/, '');
}

function decompressor(kind: LayerExpectation['compression']): { input: Writable; output: Readable } {
  if (kind === 'gzip') { const g = createGunzip(); return { input: g, output: g }; }
  if (kind === 'none') { const p = new PassThrough(); return { input: p, output: p }; }
  // Node 20 has no zstd; Debian's zstd decompresses in a child process.
  const child = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  child.on('error', (e) => child.stdout.emit('error', new Error(`zstd layers need the zstd program (apt-get install zstd): ${e.message}`)));
  child.on('exit', (code) => { if (code) child.stdout.emit('error', new Error(`zstd: ${err.trim() || `exit ${code}`}`)); });
  return { input: child.stdin, output: child.stdout };
}

/** Turns the recorded whiteouts into overlayfs's: 0/0 character devices and opaque xattrs. */
async function applyWhiteouts(dir: string, whiteouts: string[], opaque: string[]): Promise<void> {
  if (!whiteouts.length && !opaque.length) return;
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ['set -e'];
  for (const d of opaque) {
    const abs = path.join(dir, d);
    lines.push(`mkdir -p ${q(abs)}`, `setfattr -n trusted.overlay.opaque -v y ${q(abs)}`);
  }
  for (const w of whiteouts) {
    const abs = path.join(dir, w);
    // A whiteout only hides lower layers; anything of this layer at that name is dropped.
    lines.push(`mkdir -p ${q(path.dirname(abs))}`, `rm -rf ${q(abs)}`, `mknod -m 0 ${q(abs)} c 0 0`);
  }
  await new Promise<void>((resolve, reject) => {
    const sh = spawn('sh', ['-c', lines.join('\n')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    sh.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    sh.on('error', reject);
    sh.on('exit', (code) => code === 0 ? resolve() : reject(new ImageError('STORE', `cannot write whiteouts (needs mknod and setfattr from Debian's attr): ${err.trim()}`)));
  });
}

/** Size in bytes of everything under `dir` (disk accounting for image GC). */
export function duBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else { try { total += fs.lstatSync(p).blocks * 512; } catch { /* gone */ } }
    }
  };
  walk(dir);
  return total;
}

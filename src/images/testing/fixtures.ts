/**
 * Test images built here, offline: a busybox root filesystem (Debian's busybox-static, fetched once
 * per machine with `apt-get download` into a cache dir outside git; when apt cannot fetch it, the
 * host's own busybox with its shared libraries, said so on stderr), layers made with tar-stream,
 * written as an OCI image layout (what `skopeo copy oci:DIR:TAG docker://…` pushes, and what
 * `clusterip image load` reads) or as a `docker save` archive.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';

/** One entry of a layer. */
export type LayerEntry =
  | { path: string; type: 'file'; content: string | Buffer; mode?: number; uid?: number; gid?: number }
  | { path: string; type: 'dir'; mode?: number; uid?: number; gid?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'hardlink'; target: string };

/** Where downloaded fixtures are cached (outside the repository). */
export const CACHE_DIR = path.join(os.tmpdir(), 'clusterip-test-cache');

const APPLETS = ['sh', 'ash', 'cat', 'echo', 'env', 'ls', 'sleep', 'id', 'hostname', 'wget', 'nc', 'httpd', 'head', 'tail', 'ps',
  'mkdir', 'rm', 'touch', 'true', 'false', 'test', 'printf', 'grep', 'sed', 'awk', 'dd', 'kill', 'pwd', 'whoami', 'seq', 'tr', 'cut',
  'wc', 'date', 'yes', 'stat', 'mount', 'cp', 'mv', 'chmod', 'ln', 'tee', 'timeout', 'nslookup', 'uname', 'df', 'free', 'top', 'xargs'];

let busyboxCache: { binary: Buffer; libs: { path: string; content: Buffer }[]; source: string } | undefined;

/**
 * A static busybox: from busybox-static's .deb (downloaded once into CACHE_DIR), else the host's
 * busybox plus the libraries `ldd` lists.
 */
export function busybox(): { binary: Buffer; libs: { path: string; content: Buffer }[]; source: string } {
  if (busyboxCache) return busyboxCache;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const extracted = path.join(CACHE_DIR, 'busybox-static', 'bin', 'busybox');
  if (!fs.existsSync(extracted)) {
    let deb = fs.readdirSync(CACHE_DIR).find((f) => f.startsWith('busybox-static_') && f.endsWith('.deb'));
    if (!deb) {
      const r = spawnSync('apt-get', ['download', 'busybox-static'], { cwd: CACHE_DIR, encoding: 'utf8', timeout: 120_000 });
      deb = fs.readdirSync(CACHE_DIR).find((f) => f.startsWith('busybox-static_') && f.endsWith('.deb'));
      if (!deb) process.stderr.write(`# apt-get download busybox-static failed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); using the host's dynamically linked busybox with its libraries\n`);
    }
    if (deb) {
      const tmp = fs.mkdtempSync(path.join(CACHE_DIR, 'x-'));
      execFileSync('dpkg-deb', ['-x', path.join(CACHE_DIR, deb), tmp]);
      fs.mkdirSync(path.dirname(extracted), { recursive: true });
      fs.copyFileSync(path.join(tmp, 'bin', 'busybox'), extracted);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (fs.existsSync(extracted)) {
    busyboxCache = { binary: fs.readFileSync(extracted), libs: [], source: 'busybox-static (Debian)' };
    return busyboxCache;
  }
  const host = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p))!;
  const libs: { path: string; content: Buffer }[] = [];
  for (const line of execFileSync('ldd', [host], { encoding: 'utf8' }).split('\n')) {
    const m = /(\/\S+) \(0x/.exec(line);
    if (m) libs.push({ path: m[1]!.replace(/^\//, ''), content: fs.readFileSync(m[1]!) });
  }
  busyboxCache = { binary: fs.readFileSync(host), libs, source: `host ${host} + ${libs.length} libraries` };
  return busyboxCache;
}

/** The entries of a minimal busybox root filesystem (bin/busybox, applet links, /etc files). */
export function busyboxRootfs(): LayerEntry[] {
  const bb = busybox();
  const out: LayerEntry[] = [
    { path: 'bin', type: 'dir', mode: 0o755 },
    { path: 'bin/busybox', type: 'file', content: bb.binary, mode: 0o755 },
    ...APPLETS.map((a): LayerEntry => ({ path: `bin/${a}`, type: 'symlink', target: 'busybox' })),
    { path: 'etc', type: 'dir', mode: 0o755 },
    { path: 'etc/passwd', type: 'file', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
    { path: 'etc/group', type: 'file', content: 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n' },
    { path: 'root', type: 'dir', mode: 0o700 },
    { path: 'home', type: 'dir', mode: 0o755 },
    { path: 'home/app', type: 'dir', mode: 0o755, uid: 1000, gid: 1000 },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    { path: 'var', type: 'dir', mode: 0o755 },
    { path: 'var/www', type: 'dir', mode: 0o755 },
    { path: 'var/www/index.html', type: 'file', content: '<h1>hello from an OCI image</h1>\n' },
  ];
  for (const l of bb.libs) {
    const parts = path.posix.dirname(l.path).split('/');
    for (let i = 1; i <= parts.length; i++) out.push({ path: parts.slice(0, i).join('/'), type: 'dir', mode: 0o755 });
    out.push({ path: l.path, type: 'file', content: l.content, mode: 0o755 });
  }
  return out;
}

/** A layer tar of `entries` (uncompressed). */
export async function layerTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  const mtime = new Date(1_700_000_000_000);
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.path) && e.type === 'dir') continue;
    seen.add(e.path);
    if (e.type === 'file') {
      const content = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
      await new Promise<void>((r, j) => pack.entry({ name: e.path, mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime, size: content.length }, content, (err) => err ? j(err) : r()));
    } else if (e.type === 'dir') {
      pack.entry({ name: `${e.path}/`, type: 'directory', mode: e.mode ?? 0o755, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime });
    } else if (e.type === 'symlink') {
      pack.entry({ name: e.path, type: 'symlink', linkname: e.target, mode: 0o777, mtime });
    } else {
      pack.entry({ name: e.path, type: 'link', linkname: e.target, mtime });
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** `size` bytes that do not compress (for layers of a given weight). */
export function randomBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(String(seed)).digest();
  for (let o = 0; o < size; o += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(out, o, 0, Math.min(32, size - o));
  }
  return out;
}

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An image to write: layers bottom to top (uncompressed tars) and its config. */
export interface ImageSpec {
  layers: Buffer[];
  config?: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string; User?: string };
  architecture?: string;
  /** gzip the layers (default true). */
  gzip?: boolean;
}

interface Built { manifest: Buffer; manifestDigest: string; blobs: Map<string, Buffer>; }

function buildImage(img: ImageSpec): Built {
  const blobs = new Map<string, Buffer>();
  const gz = img.gzip ?? true;
  const layerDescs = img.layers.map((tar) => {
    const blob = gz ? gzipSync(tar, { level: 1 }) : tar;
    blobs.set(digestOf(blob), blob);
    return { mediaType: gz ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(blob), size: blob.length };
  });
  const config = Buffer.from(JSON.stringify({
    architecture: img.architecture ?? 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...img.config },
    rootfs: { type: 'layers', diff_ids: img.layers.map(digestOf) },
  }));
  blobs.set(digestOf(config), config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
    layers: layerDescs,
  }));
  blobs.set(digestOf(manifest), manifest);
  return { manifest, manifestDigest: digestOf(manifest), blobs };
}

/**
 * Writes (or adds to) an OCI image layout at `dir`: `tag` names the image, or — when `images`
 * has several — an image index of them (one per architecture). Returns the tagged digest.
 */
export function writeOciLayout(dir: string, tag: string, images: ImageSpec | ImageSpec[]): string {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const list = Array.isArray(images) ? images : [images];
  const built = list.map(buildImage);
  const put = (d: string, b: Buffer): void => fs.writeFileSync(path.join(dir, 'blobs', 'sha256', d.slice(7)), b);
  for (const b of built) for (const [d, blob] of b.blobs) put(d, blob);
  let desc: { mediaType: string; digest: string; size: number };
  if (Array.isArray(images)) {
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: built.map((b, i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: b.manifestDigest, size: b.manifest.length,
        platform: { os: 'linux', architecture: list[i]!.architecture ?? 'amd64', ...(list[i]!.architecture === 'arm64' ? { variant: 'v8' } : {}) } })),
    }));
    put(digestOf(index), index);
    desc = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: digestOf(index), size: index.length };
  } else {
    desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: built[0]!.manifestDigest, size: built[0]!.manifest.length };
  }
  const indexPath = path.join(dir, 'index.json');
  const top = fs.existsSync(indexPath) ? JSON.parse(fs.readFileSync(indexPath, 'utf8')) as { manifests: object[] } : { schemaVersion: 2, manifests: [] };
  top.manifests = top.manifests.filter((m) => (m as { annotations?: Record<string, string> }).annotations?.['org.opencontainers.image.ref.name'] !== tag);
  top.manifests.push({ ...desc, annotations: { 'org.opencontainers.image.ref.name': tag } });
  fs.writeFileSync(indexPath, JSON.stringify(top));
  return desc.digest;
}

/** Writes a `docker save` archive (manifest.json, config, uncompressed layer tars) to `file`. */
export async function writeDockerArchive(file: string, repoTag: string, img: ImageSpec): Promise<void> {
  const config = Buffer.from(JSON.stringify({
    architecture: img.architecture ?? 'amd64', os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...img.config },
    rootfs: { type: 'layers', diff_ids: img.layers.map(digestOf) },
  }));
  const cfgName = `${digestOf(config).slice(7)}.json`;
  const layerNames = img.layers.map((l) => `${digestOf(l).slice(7)}/layer.tar`);
  const pack = tarStream.pack();
  const out = fs.createWriteStream(file);
  pack.pipe(out);
  const add = (name: string, b: Buffer): Promise<void> => new Promise((r, j) => pack.entry({ name, size: b.length, mode: 0o644 }, b, (e) => e ? j(e) : r()));
  await add(cfgName, config);
  for (let i = 0; i < img.layers.length; i++) await add(layerNames[i]!, img.layers[i]!);
  await add('manifest.json', Buffer.from(JSON.stringify([{ Config: cfgName, RepoTags: [repoTag], Layers: layerNames }])));
  pack.finalize();
  await new Promise<void>((r) => out.on('close', () => r()));
}

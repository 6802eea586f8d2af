/**
 * `clusterip image load`: images from files instead of a registry, for machines without one (as
 * `kind load image-archive` / `ctr images import`). Reads
 * - an OCI image layout (a directory, or a tar of one: `skopeo copy … oci-archive:F`, `docker save`
 *   since Docker 25 also writes one), each `index.json` entry named by its
 *   `io.containerd.image.name` or `org.opencontainers.image.ref.name` annotation; an index entry
 *   resolves to this platform;
 * - a `docker save` archive (`manifest.json` with Config, RepoTags and Layers).
 * Every blob is verified against its digest and every layer against the config's diff_ids, with the
 * same unpack as a pull (unpack.ts), so a loaded image is indistinguishable from a pulled one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { ImageError } from './errors.js';
import { choosePlatform, layerCompression, parseConfig, parseManifest, sha256, MEDIA, type Descriptor } from './manifest.js';
import { formatReference, parseReference } from './reference.js';
import type { ImageStore, StoredImage } from './store.js';
import { unpackLayer } from './unpack.js';

/** Options of a load. */
export interface LoadOptions {
  /** Name for images whose archive gives only a tag (an OCI layout written by skopeo: `oci:DIR:v1`). */
  name?: string;
}

/** Loads every image of `file` (a directory or a tar) into the store; returns them. */
export async function loadArchive(store: ImageStore, file: string, opts: LoadOptions = {}): Promise<StoredImage[]> {
  let st: fs.Stats;
  try { st = fs.statSync(file); } catch { throw new ImageError('INVALID', `${file}: no such file or directory`); }
  if (st.isDirectory()) return loadDir(store, file, opts);
  const work = store.workDir();
  try {
    try {
      await tar.x({ file, cwd: work, preserveOwner: false, strict: true });
    } catch (e) {
      throw new ImageError('INVALID', `${file} is not a tar archive (an OCI layout or a docker save): ${(e as Error).message}`);
    }
    return await loadDir(store, work, opts);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function loadDir(store: ImageStore, dir: string, opts: LoadOptions): Promise<StoredImage[]> {
  if (fs.existsSync(path.join(dir, 'index.json')) && fs.existsSync(path.join(dir, 'oci-layout'))) return loadOciLayout(store, dir, opts);
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return loadDockerSave(store, dir);
  throw new ImageError('INVALID', 'not an image archive: neither an OCI layout (index.json, oci-layout) nor a docker save (manifest.json)');
}

function readBlob(dir: string, d: Descriptor | string): Buffer {
  const digest = typeof d === 'string' ? d : d.digest;
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new ImageError('UNSUPPORTED', `unsupported digest ${digest}`);
  const file = path.join(dir, 'blobs', 'sha256', digest.slice(7));
  let b: Buffer;
  try { b = fs.readFileSync(file); } catch { throw new ImageError('INVALID', `blob ${digest} is missing from the layout`); }
  if (sha256(b) !== digest) throw new ImageError('DIGEST_MISMATCH', `blob ${digest}: digest mismatch (content hashes to ${sha256(b)})`);
  return b;
}

function imageName(annotations: Record<string, string> | undefined, opts: LoadOptions): string {
  const full = annotations?.['io.containerd.image.name'];
  const ref = annotations?.['org.opencontainers.image.ref.name'];
  const pick = full ?? (ref && (ref.includes('/') || ref.includes(':')) ? ref : undefined);
  if (pick) return formatReference(parseReference(pick));
  if (ref && opts.name) return formatReference(parseReference(`${opts.name.replace(/:[^/:]*$/, '')}:${ref}`));
  if (opts.name) return formatReference(parseReference(opts.name));
  throw new ImageError('INVALID', `the layout names this image only by the tag ${JSON.stringify(ref ?? '')}: give it a repository with --repo, e.g. --repo example.com/app`);
}

async function loadOciLayout(store: ImageStore, dir: string, opts: LoadOptions): Promise<StoredImage[]> {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  const out: StoredImage[] = [];
  for (const top of index.manifests ?? []) {
    const name = imageName(top.annotations, opts);
    const topBytes = readBlob(dir, top);
    let manifestDesc: Descriptor = top;
    let parsed = parseManifest(topBytes, top.mediaType);
    if (parsed.kind === 'index') {
      manifestDesc = choosePlatform(parsed.index);
      parsed = parseManifest(readBlob(dir, manifestDesc), manifestDesc.mediaType);
      if (parsed.kind !== 'manifest') throw new ImageError('UNSUPPORTED', 'an index inside an index is not supported');
    }
    const m = parsed.manifest;
    const config = parseConfig(readBlob(dir, m.config), m.layers.length);
    for (let i = 0; i < m.layers.length; i++) {
      const l = m.layers[i]!;
      const diffId = config.rootfs.diff_ids[i]!;
      await store.addLayer(diffId, (into) => unpackLayer(fs.createReadStream(path.join(dir, 'blobs', 'sha256', l.digest.slice(7))), into, {
        digest: l.digest, size: l.size, diffId, compression: layerCompression(l.mediaType), what: `layer ${i + 1}/${m.layers.length} ${l.digest}`,
      }));
    }
    const size = m.config.size + m.layers.reduce((n, l) => n + l.size, 0);
    const repo = name.replace(/(:[^/:]*)?(@.*)?$/, '');
    out.push(store.putImage({ digest: top.digest, manifestDigest: manifestDesc.digest, configDigest: m.config.digest, config, diffIds: config.rootfs.diff_ids, size },
      [name, `${repo}@${top.digest}`]));
  }
  if (!out.length) throw new ImageError('INVALID', 'the OCI layout lists no images');
  return out;
}

/** The compression of a file, from its first bytes. */
function sniff(file: string): 'gzip' | 'zstd' | 'none' {
  const b = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  try { fs.readSync(fd, b, 0, 4, 0); } finally { fs.closeSync(fd); }
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

async function loadDockerSave(store: ImageStore, dir: string): Promise<StoredImage[]> {
  const entries = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  const out: StoredImage[] = [];
  const inside = (p: string): string => {
    const abs = path.resolve(dir, p);
    if (!abs.startsWith(`${path.resolve(dir)}${path.sep}`)) throw new ImageError('INVALID', `manifest.json names a file outside the archive: ${p}`);
    return abs;
  };
  for (const e of entries) {
    if (!e.RepoTags?.length) throw new ImageError('INVALID', `image ${e.Config} in the archive has no name (RepoTags); save it by name: docker save NAME:TAG`);
    const configBytes = fs.readFileSync(inside(e.Config));
    const config = parseConfig(configBytes, e.Layers.length);
    const configDigest = sha256(configBytes);
    const sizes: number[] = [];
    for (let i = 0; i < e.Layers.length; i++) {
      const file = inside(e.Layers[i]!);
      const diffId = config.rootfs.diff_ids[i]!;
      sizes.push(fs.statSync(file).size);
      await store.addLayer(diffId, (into) => unpackLayer(fs.createReadStream(file), into, {
        diffId, compression: sniff(file), what: `layer ${i + 1}/${e.Layers.length} ${e.Layers[i]}`,
      }));
    }
    // No registry manifest exists for a saved image: the manifest it would have (layers as
    // uncompressed tars) names it, so the same archive always loads to the same digest.
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: configBytes.length },
      layers: config.rootfs.diff_ids.map((d, i) => ({ mediaType: MEDIA.ociLayer, digest: d, size: sizes[i] })),
    }));
    const digest = sha256(manifest);
    const size = configBytes.length + sizes.reduce((a, b) => a + b, 0);
    out.push(store.putImage({ digest, manifestDigest: digest, configDigest, config, diffIds: config.rootfs.diff_ids, size },
      e.RepoTags.map((t) => formatReference(parseReference(t)))));
  }
  return out;
}

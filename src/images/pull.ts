/**
 * Pulling an image into the store: resolve the reference to a manifest (through an index for
 * this platform), fetch and verify the config, then fetch the missing layers in parallel, each
 * streamed straight into its unpack with both digests verified (unpack.ts). Layers already in the
 * store are never fetched again; an image already stored under the digest the reference resolves
 * to costs one manifest request (imagePullPolicy Always on an unchanged tag).
 *
 * Concurrent pulls of the same reference in one process share one pull; other processes (other
 * clusters' daemons) are made safe by the store (a layer committed twice is kept once).
 */
import { credentialsFor, type Credential, type DockerConfig } from './auth.js';
import { ImageError } from './errors.js';
import { choosePlatform, layerCompression, MANIFEST_ACCEPT, parseConfig, parseManifest, sha256, type ImageManifest } from './manifest.js';
import { formatReference, manifestReference, parseReference, repository, type ImageRef } from './reference.js';
import { RegistryClient } from './registry.js';
import type { ImageStore, StoredImage } from './store.js';
import { unpackLayer } from './unpack.js';

/** Options of a pull. */
export interface PullOptions {
  /** Docker config JSONs whose credentials apply (imagePullSecrets, ~/.docker/config.json). */
  dockerConfigs?: readonly DockerConfig[];
  /** Registries allowed over plain HTTP / without TLS checks besides loopback ones. */
  insecureRegistries?: readonly string[];
  /** Layers fetched at once (Docker's max-concurrent-downloads is 3; loopback gains from more). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** What a pull did. */
export interface PullResult {
  image: StoredImage;
  /** Layers fetched and unpacked (0: everything was in the store). */
  fetchedLayers: number;
  /** Compressed bytes fetched. */
  fetchedBytes: number;
}

const inflight = new Map<string, Promise<PullResult>>();

/**
 * Pulls `image` (any reference Docker accepts) into `store`. Errors are ImageErrors whose message
 * reads as containerd's: `failed to pull and unpack image "<ref>": <why>`.
 */
export function pullImage(store: ImageStore, image: string, opts: PullOptions = {}): Promise<PullResult> {
  let ref: ImageRef;
  try { ref = parseReference(image); } catch (e) { return Promise.reject(new ImageError('INVALID', (e as Error).message)); }
  const key = `${store.root}\0${formatReference(ref)}`;
  const cur = inflight.get(key);
  if (cur) return cur;
  const p = doPull(store, ref, opts).finally(() => inflight.delete(key));
  inflight.set(key, p);
  return p;
}

async function doPull(store: ImageStore, ref: ImageRef, opts: PullOptions): Promise<PullResult> {
  const name = formatReference(ref);
  const credentials: Credential[] = credentialsFor(ref, opts.dockerConfigs ?? []);
  const client = new RegistryClient(ref, { insecure: opts.insecureRegistries, credentials, signal: opts.signal });
  const fail = (stage: string, e: unknown): never => {
    const err = e instanceof ImageError ? e : new ImageError('NETWORK', (e as Error).message);
    throw new ImageError(err.code, `failed to pull and unpack image "${name}": ${stage}${err.message}`);
  };

  // 1. The reference → a manifest (through an index), each verified against its digest.
  let top: { bytes: Buffer; mediaType?: string; digest?: string };
  try { top = await client.manifest(manifestReference(ref), MANIFEST_ACCEPT); } catch (e) {
    if (e instanceof ImageError && e.code === 'NOT_FOUND') fail(`failed to resolve reference "${name}": `, new ImageError('NOT_FOUND', `${name}: not found`));
    return fail(`failed to resolve reference "${name}": `, e);
  }
  const topDigest = sha256(top.bytes);
  try {
    if (ref.digest && topDigest !== ref.digest) throw new ImageError('DIGEST_MISMATCH', `manifest digest mismatch: asked for ${ref.digest}, the registry sent content hashing to ${topDigest}`);
    if (top.digest && top.digest !== topDigest) throw new ImageError('DIGEST_MISMATCH', `manifest digest mismatch: the registry says ${top.digest}, the content hashes to ${topDigest}`);
  } catch (e) { return fail('', e); }
  const names = [name, `${repository(ref)}@${topDigest}`].filter((n, i, a) => a.indexOf(n) === i);
  const have = store.resolve(topDigest);
  if (have) return { image: store.putImage(have, names), fetchedLayers: 0, fetchedBytes: 0 };

  let manifest: ImageManifest;
  let manifestDigest = topDigest;
  try {
    const parsed = parseManifest(top.bytes, top.mediaType);
    if (parsed.kind === 'index') {
      const d = choosePlatform(parsed.index);
      const m = await client.manifest(d.digest, MANIFEST_ACCEPT);
      if (sha256(m.bytes) !== d.digest) throw new ImageError('DIGEST_MISMATCH', `manifest ${d.digest}: digest mismatch (content hashes to ${sha256(m.bytes)})`);
      const inner = parseManifest(m.bytes, m.mediaType);
      if (inner.kind !== 'manifest') throw new ImageError('UNSUPPORTED', 'an index inside an index is not supported');
      manifest = inner.manifest;
      manifestDigest = d.digest;
    } else {
      manifest = parsed.manifest;
    }
  } catch (e) { return fail('', e); }

  // 2. The config (small, verified whole).
  let configBytes: Buffer;
  try {
    configBytes = await client.blobBytes(manifest.config.digest);
    if (sha256(configBytes) !== manifest.config.digest) throw new ImageError('DIGEST_MISMATCH', `config ${manifest.config.digest}: digest mismatch (content hashes to ${sha256(configBytes)})`);
  } catch (e) { return fail('', e); }
  let config;
  try { config = parseConfig(configBytes, manifest.layers.length); } catch (e) { return fail('', e); }

  // 3. The missing layers, in parallel, each streamed into its unpack.
  const missing = manifest.layers.map((l, i) => ({ l, i, diffId: config.rootfs.diff_ids[i]! })).filter((x) => !store.hasLayer(x.diffId));
  const unique = missing.filter((x, k) => missing.findIndex((y) => y.diffId === x.diffId) === k);
  let fetchedBytes = 0;
  const queue = [...unique];
  const worker = async (): Promise<void> => {
    for (let x = queue.shift(); x; x = queue.shift()) {
      const { l, i, diffId } = x;
      await store.addLayer(diffId, async (dir) => {
        const body = await client.blob(l.digest);
        const r = await unpackLayer(body, dir, {
          digest: l.digest, size: l.size, diffId, compression: layerCompression(l.mediaType), what: `layer ${i + 1}/${manifest.layers.length} ${l.digest}`,
        });
        fetchedBytes += l.size;
        return r;
      });
    }
  };
  try {
    const n = Math.max(1, Math.min(opts.concurrency ?? 4, unique.length));
    // The first failure stops the others at their next layer; the pull fails once every layer
    // under way has settled (committed whole, or its work dir removed).
    const settled = await Promise.allSettled(Array.from({ length: n }, () => worker().catch((e: unknown) => { queue.length = 0; throw e; })));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (e) { return fail('', e); }

  const size = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  const image = store.putImage({ digest: topDigest, manifestDigest, configDigest: manifest.config.digest, config, diffIds: config.rootfs.diff_ids, size }, names);
  return { image, fetchedLayers: unique.length, fetchedBytes };
}

/** The store name of `image` (normalized), or undefined when it cannot be parsed. */
export function storeName(image: string): string | undefined {
  try { return formatReference(parseReference(image)); } catch { return undefined; }
}

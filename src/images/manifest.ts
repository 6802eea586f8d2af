/**
 * Manifests, indexes and image configs (OCI image spec and Docker's schema 2), pure: media types,
 * parsing with the checks a pull relies on, choosing the platform from an index, and the config
 * fields a container uses. Schema 1 (signed v1 manifests, deprecated since 2017) is refused.
 */
import { createHash } from 'node:crypto';
import { ImageError } from './errors.js';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** What a pull asks the registry for (the Accept header), index types first. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

/** A content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** The parts of an image config a container uses (OCI image config / Docker's). */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** `sha256:<hex>` of `bytes`. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Throws DIGEST_MISMATCH unless `bytes` hash to `digest`. */
export function verifyDigest(bytes: Buffer, digest: string, what: string): void {
  const got = sha256(bytes);
  if (got !== digest) throw new ImageError('DIGEST_MISMATCH', `${what}: digest mismatch: expected ${digest}, got ${got}`);
}

function checkDescriptor(d: unknown, where: string): Descriptor {
  const x = d as Descriptor;
  if (!x || typeof x.mediaType !== 'string' || typeof x.digest !== 'string' || typeof x.size !== 'number') {
    throw new ImageError('INVALID', `${where}: a descriptor needs mediaType, digest and size`);
  }
  if (!DIGEST.test(x.digest)) throw new ImageError('UNSUPPORTED', `${where}: unsupported digest ${JSON.stringify(x.digest)} (only sha256)`);
  if (!(x.size >= 0)) throw new ImageError('INVALID', `${where}: negative size`);
  return x;
}

/** Parsed manifest bytes: an image manifest or an index, by media type (header, then body). */
export function parseManifest(bytes: Buffer, headerType?: string): { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; index: ImageIndex } {
  let doc: { schemaVersion?: number; mediaType?: string; manifests?: unknown[]; config?: unknown; layers?: unknown[] };
  try { doc = JSON.parse(bytes.toString('utf8')) as typeof doc; } catch { throw new ImageError('INVALID', 'manifest is not JSON'); }
  if (doc.schemaVersion === 1) throw new ImageError('UNSUPPORTED', 'schema 1 manifests are not supported (deprecated by Docker in 2017; push the image again with a current client)');
  if (doc.schemaVersion !== 2) throw new ImageError('INVALID', `manifest schemaVersion ${JSON.stringify(doc.schemaVersion)} is not 2`);
  const type = doc.mediaType ?? headerType?.split(';')[0]?.trim() ?? '';
  if (type === MEDIA.ociIndex || type === MEDIA.dockerList || (!type && Array.isArray(doc.manifests))) {
    if (!Array.isArray(doc.manifests)) throw new ImageError('INVALID', 'index has no manifests');
    return { kind: 'index', index: { schemaVersion: 2, mediaType: type, manifests: doc.manifests.map((m, i) => checkDescriptor(m, `index.manifests[${i}]`)) } };
  }
  if (type === MEDIA.ociManifest || type === MEDIA.dockerManifest || (!type && doc.config)) {
    if (!Array.isArray(doc.layers)) throw new ImageError('INVALID', 'manifest has no layers');
    const config = checkDescriptor(doc.config, 'manifest.config');
    const layers = doc.layers.map((l, i) => checkDescriptor(l, `manifest.layers[${i}]`));
    for (const l of layers) {
      if (l.mediaType === MEDIA.dockerForeignLayer) throw new ImageError('UNSUPPORTED', 'foreign (Windows) layers are not supported');
    }
    return { kind: 'manifest', manifest: { schemaVersion: 2, mediaType: type, config, layers } };
  }
  throw new ImageError('UNSUPPORTED', `unsupported manifest media type ${JSON.stringify(type)}`);
}

/** This machine's platform as OCI names it (`linux/amd64`, `linux/arm64/v8`). */
export function hostPlatform(): { os: string; architecture: string; variant?: string } {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
  return { os: 'linux', architecture: arch, ...(arch === 'arm64' ? { variant: 'v8' } : {}) };
}

/**
 * The manifest of an index for `platform` (containerd's platforms.Default() matcher, reduced):
 * same os and architecture; for a variant, an exact variant first, then none given.
 */
export function choosePlatform(index: ImageIndex, platform = hostPlatform()): Descriptor {
  const same = index.manifests.filter((m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture
    && (m.mediaType === MEDIA.ociManifest || m.mediaType === MEDIA.dockerManifest || !m.mediaType));
  const exact = same.find((m) => (m.platform?.variant ?? '') === (platform.variant ?? ''));
  const pick = exact ?? same.find((m) => !m.platform?.variant) ?? same[0];
  if (!pick) {
    const have = index.manifests.map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/')).filter(Boolean);
    throw new ImageError('UNSUPPORTED', `no match for platform in manifest: not found (wanted ${platform.os}/${platform.architecture}; the index has ${have.join(', ') || 'no platforms'})`);
  }
  return pick;
}

/** Parses and checks an image config: one diff_id per layer. */
export function parseConfig(bytes: Buffer, layerCount: number): ImageConfig {
  let c: ImageConfig;
  try { c = JSON.parse(bytes.toString('utf8')) as ImageConfig; } catch { throw new ImageError('INVALID', 'image config is not JSON'); }
  const ids = c?.rootfs?.diff_ids;
  if (!Array.isArray(ids)) throw new ImageError('INVALID', 'image config has no rootfs.diff_ids');
  if (ids.length !== layerCount) throw new ImageError('INVALID', `image config lists ${ids.length} layers, the manifest ${layerCount}`);
  for (const d of ids) if (!DIGEST.test(d)) throw new ImageError('UNSUPPORTED', `unsupported diff_id ${JSON.stringify(d)}`);
  if (c.os && c.os !== 'linux') throw new ImageError('UNSUPPORTED', `image is for ${c.os}, not linux`);
  return c;
}

/** How a layer blob is compressed, from its media type. */
export function layerCompression(mediaType: string): 'gzip' | 'zstd' | 'none' {
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  if (mediaType.endsWith('.tar') || mediaType.endsWith('+tar') || mediaType === 'application/x-tar') return 'none';
  return 'gzip';
}

/**
 * Image references as Docker and containerd read them (distribution's `reference` package:
 * ParseNormalizedNamed): `nginx` is `docker.io/library/nginx:latest`, `user/app` is
 * `docker.io/user/app:latest`, and a first component with a `.` or a `:`, or `localhost`, is a
 * registry (`127.0.0.1:5000/app`, `registry.k8s.io/pause:3.10`). A digest (`@sha256:…`) pins the
 * content and wins over a tag for pulling; the tag is kept for display.
 *
 * Hand-written because no maintained npm package implements the distribution grammar; the
 * patterns below are that grammar's (reference/regexp.go), reduced to what a pull needs.
 */

/** A parsed, normalized reference. */
export interface ImageRef {
  /** Registry host[:port] as written, `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path in that registry (`library/nginx`). */
  path: string;
  /** `latest` when neither tag nor digest was given. */
  tag?: string;
  /** `sha256:<hex>` when pinned. */
  digest?: string;
}

/** The error for a reference that cannot be parsed (containerd's wording). */
export class ReferenceError extends Error {
  readonly code = 'INVALID_IMAGE_REFERENCE';
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DOMAIN = /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

/** Docker Hub's names for itself, all meaning `docker.io`. */
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Parses `image` as Docker does (see the module comment). Throws ReferenceError. */
export function parseReference(image: string): ImageRef {
  const s = image.trim();
  if (!s) throw new ReferenceError('invalid reference format: repository name must have at least one component');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError(`invalid reference format: invalid digest "${digest}" in "${image}"`);
    if (!digest.startsWith('sha256:')) throw new ReferenceError(`unsupported digest algorithm in "${image}": only sha256 is supported`);
    digest = digest.toLowerCase();
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError(`invalid reference format: invalid tag "${tag}" in "${image}"`);
  }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(domain)) throw new ReferenceError(`invalid reference format: invalid registry "${domain}" in "${image}"`);
  if (HUB_ALIASES.has(domain.toLowerCase())) domain = 'docker.io';
  if (path !== path.toLowerCase()) throw new ReferenceError(`invalid reference format: repository name (${path}) must be lowercase`);
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c)) throw new ReferenceError(`invalid reference format: invalid repository name "${path}" in "${image}"`);
  }
  if (domain.length + 1 + path.length > 255) throw new ReferenceError(`invalid reference format: repository name is longer than 255 characters in "${image}"`);
  if (!tag && !digest) tag = 'latest';
  return { domain, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `docker.io/library/nginx` */
export function repository(r: ImageRef): string {
  return `${r.domain}/${r.path}`;
}

/** The full normalized name: `docker.io/library/nginx:1.27`, `…@sha256:…`, or both. */
export function formatReference(r: ImageRef): string {
  return `${repository(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The shortest form Docker prints: `nginx:1.27`, `user/app:1`, `127.0.0.1:5000/app:1`. */
export function familiarName(r: ImageRef): string {
  let name = repository(r);
  if (r.domain === 'docker.io') name = r.path.startsWith('library/') ? r.path.slice('library/'.length) : r.path;
  return `${name}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export function manifestReference(r: ImageRef): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** The host to connect to: Docker Hub's API is served by registry-1.docker.io. */
export function registryHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}

/**
 * True for registries reached on this machine's loopback (`localhost`, 127.0.0.0/8, `[::1]`), which
 * Docker and containerd allow over plain HTTP without being named insecure.
 */
export function isLoopbackRegistry(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * A client of one repository on a registry (Docker Registry HTTP API v2 / OCI distribution spec),
 * read-only: manifests by tag or digest, blobs by digest (streamed). Authentication as Docker does
 * it: the first request goes anonymous; a 401 carries a challenge — `Bearer realm,service,scope`
 * (Docker Hub: a token from the realm, fetched with the credentials if there are any) or `Basic`
 * (an htpasswd-protected registry: the credentials on every request). Each credential that applies
 * is tried in turn, as the kubelet does; the registry's own error message is kept in the error.
 *
 * Transport: HTTPS with certificate checks. A loopback registry, or one named insecure, is tried
 * with HTTPS without checks and then plain HTTP (Docker's order for insecure registries).
 * Redirects (Docker Hub sends blobs to a CDN) are followed by hand so credentials never go to
 * another host. undici is the HTTP client: it streams bodies and pools connections, so layers
 * download in parallel over a few keep-alive connections.
 */
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { parseChallenges, pullScope, type Credential } from './auth.js';
import { ImageError } from './errors.js';
import { isLoopbackRegistry, registryHost, type ImageRef } from './reference.js';

/** Options of a RegistryClient. */
export interface RegistryOptions {
  /** Registries (host[:port]) allowed without TLS checks or over plain HTTP besides loopback ones. */
  insecure?: readonly string[];
  /** Credentials to try, in order; anonymous when empty. */
  credentials?: readonly Credential[];
  /** Abort everything (a Pod deleted mid-pull). */
  signal?: AbortSignal;
}

const USER_AGENT = 'clusterip/0.1 (containerd-compatible puller)';
const secureAgent = new Agent({ connections: 8, headersTimeout: 30_000, bodyTimeout: 120_000 });
const insecureAgent = new Agent({ connections: 8, headersTimeout: 30_000, bodyTimeout: 120_000, connect: { rejectUnauthorized: false } });

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

function header(h: Response['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The registry's own error text: `unauthorized: authentication required`. */
async function registryMessage(res: Response): Promise<string> {
  let text = '';
  try { text = await res.body.text(); } catch { /* no body */ }
  try {
    const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[]; details?: string };
    const errs = j.errors?.map((e) => [e.code?.toLowerCase(), e.message].filter(Boolean).join(': ')).filter(Boolean);
    if (errs?.length) return errs.join('; ');
    if (j.details) return j.details; // Docker Hub's token service
  } catch { /* not JSON */ }
  return text.trim().slice(0, 200);
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** One repository of one registry. */
export class RegistryClient {
  private readonly host: string;
  private readonly insecure: boolean;
  /** The base URL that answered (decided by the first request). */
  private base?: string;
  private authHeader?: string;
  /** Index into the credentials of the one in use (-1: anonymous). */
  private credIndex = -1;

  constructor(private readonly ref: ImageRef, private readonly opts: RegistryOptions = {}) {
    this.host = registryHost(ref.domain);
    this.insecure = isLoopbackRegistry(ref.domain) || (opts.insecure ?? []).includes(ref.domain);
    if (opts.credentials?.length) this.credIndex = 0;
  }

  /** GET a manifest (by tag or digest) with the media types a pull accepts. */
  async manifest(reference: string, accept: string): Promise<{ bytes: Buffer; mediaType?: string; digest?: string }> {
    const res = await this.get(`/v2/${this.ref.path}/manifests/${reference}`, { accept }, `manifests ${reference}`);
    const bytes = await readLimited(res, 4 << 20, 'manifest');
    return { bytes, mediaType: header(res.headers, 'content-type'), digest: header(res.headers, 'docker-content-digest') };
  }

  /** GET a blob: its body, streamed (the caller verifies the digest). */
  async blob(digest: string): Promise<Readable> {
    const res = await this.get(`/v2/${this.ref.path}/blobs/${digest}`, {}, `blobs ${digest}`);
    return res.body;
  }

  /** GET a small blob (a config) whole. */
  async blobBytes(digest: string, limit = 16 << 20): Promise<Buffer> {
    const res = await this.get(`/v2/${this.ref.path}/blobs/${digest}`, {}, `blobs ${digest}`);
    return readLimited(res, limit, 'config');
  }

  private async bases(): Promise<{ url: string; dispatcher: Dispatcher }[]> {
    if (this.base) return [{ url: this.base, dispatcher: this.base.startsWith('https:') && !this.insecure ? secureAgent : insecureAgent }];
    if (!this.insecure) return [{ url: `https://${this.host}`, dispatcher: secureAgent }];
    return [{ url: `https://${this.host}`, dispatcher: insecureAgent }, { url: `http://${this.host}`, dispatcher: insecureAgent }];
  }

  /** One GET with auth, redirects and the transport fallback; a non-2xx answer is an ImageError. */
  private async get(path: string, headers: Record<string, string>, what: string): Promise<Response> {
    let lastNetErr: unknown;
    for (const b of await this.bases()) {
      let res: Response;
      try {
        res = await this.authed(b.url, path, headers, b.dispatcher);
      } catch (e) {
        if (e instanceof ImageError) throw e;
        lastNetErr = e;
        continue;
      }
      this.base = b.url;
      return this.check(res, `${b.url}${path}`, what);
    }
    const cause = lastNetErr instanceof Error ? ((lastNetErr as { cause?: Error }).cause?.message ?? lastNetErr.message) : String(lastNetErr);
    throw new ImageError('NETWORK', `failed to do request: Get "https://${this.host}${path}": ${cause}`);
  }

  private async authed(base: string, path: string, headers: Record<string, string>, dispatcher: Dispatcher): Promise<Response> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const res = await this.follow(`${base}${path}`, { ...headers, ...(this.authHeader ? { authorization: this.authHeader } : {}) }, dispatcher);
      if (res.status !== 401) return res;
      const challenges = parseChallenges(header(res.headers, 'www-authenticate'));
      const cred = this.credIndex >= 0 ? this.opts.credentials![this.credIndex] : undefined;
      if (this.authHeader) {
        // Refused with what we sent: the next credential, else the refusal stands.
        if (this.credIndex >= 0 && this.credIndex + 1 < (this.opts.credentials?.length ?? 0)) {
          this.credIndex++;
          this.authHeader = undefined;
          await res.body.dump();
          continue;
        }
        return res;
      }
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      const basic = challenges.find((c) => c.scheme === 'basic');
      if (bearer?.params.realm) {
        await res.body.dump();
        this.authHeader = `Bearer ${await this.token(bearer.params, cred, dispatcher)}`;
      } else if (basic && cred) {
        await res.body.dump();
        this.authHeader = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      } else {
        return res;
      }
    }
    throw new ImageError('UNAUTHORIZED', `authorization failed for ${this.ref.domain}: too many challenges`);
  }

  /** A Bearer token from the challenge's realm (Docker's token protocol, GET form). */
  private async token(params: Record<string, string>, cred: Credential | undefined, dispatcher: Dispatcher): Promise<string> {
    const url = new URL(params.realm!);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? pullScope(this.ref));
    const h: Record<string, string> = {};
    if (cred) h.authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
    const realmInsecure = this.insecure && isLoopbackRegistry(url.host);
    const res = await this.follow(url.toString(), h, url.protocol === 'https:' && !realmInsecure ? secureAgent : (realmInsecure ? insecureAgent : dispatcher));
    if (res.status !== 200) {
      const msg = await registryMessage(res);
      throw new ImageError('UNAUTHORIZED', `failed to fetch ${cred ? '' : 'anonymous '}token: unexpected status from GET request to ${url.origin}${url.pathname}: ${res.status} ${STATUS_TEXT[res.status] ?? ''}${msg ? `: ${msg}` : ''}`.replace(/ {2,}/g, ' '));
    }
    const j = await res.body.json() as { token?: string; access_token?: string };
    const t = j.token ?? j.access_token;
    if (!t) throw new ImageError('UNAUTHORIZED', `the token service at ${url.origin} answered without a token`);
    return t;
  }

  /** GET following redirects; the Authorization header only goes to the first origin. */
  private async follow(url: string, headers: Record<string, string>, dispatcher: Dispatcher): Promise<Response> {
    let cur = new URL(url);
    const origin = cur.origin;
    for (let hop = 0; hop < 6; hop++) {
      const h: Record<string, string> = { 'user-agent': USER_AGENT, ...headers };
      if (cur.origin !== origin) delete h.authorization;
      const res = await request(cur, { method: 'GET', headers: h, dispatcher, signal: this.opts.signal });
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location) {
        await res.body.dump();
        cur = new URL(String(res.headers.location), cur);
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body };
    }
    throw new ImageError('NETWORK', `too many redirects from ${url}`);
  }

  private async check(res: Response, url: string, what: string): Promise<Response> {
    if (res.status >= 200 && res.status < 300) return res;
    const msg = await registryMessage(res);
    const status = `${res.status} ${STATUS_TEXT[res.status] ?? ''}`.trim();
    const detail = `unexpected status from GET request to ${url}: ${status}${msg ? `: ${msg}` : ''}`;
    if (res.status === 404) throw new ImageError('NOT_FOUND', `${what}: not found (${detail})`);
    if (res.status === 401 || res.status === 403) {
      const tried = this.credIndex >= 0 ? ` (credentials from ${this.opts.credentials![this.credIndex]!.source ?? 'an imagePullSecret'})` : ' (no credentials)';
      throw new ImageError('UNAUTHORIZED', `pull access denied, repository does not exist or may require authorization${tried}: ${detail}`);
    }
    throw new ImageError('NETWORK', detail);
  }
}

async function readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) { res.body.destroy(); throw new ImageError('INVALID', `${what} is larger than ${limit} bytes`); }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

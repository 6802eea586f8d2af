/**
 * `Client` over HTTP: HTTPS to the API server (cluster CA + client certificate and/or bearer token,
 * keep-alive agent) or plain HTTP over the API server's unix socket. What out-of-process components
 * (the DNS Pod, node agents in other network namespaces, the CLI) use. Failures are ApiErrors rebuilt
 * from the server's Status; transport failures are 503 ServiceUnavailable ApiErrors.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ClientRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeList, KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import { ApiError } from '../api/errors.js';
import type { Client, CreateSubresource, DeleteOptions, ListOptions, PatchType, WatchEvent, WatchHandle, WatchOptions, WriteOptions } from './client.js';
import type { GetSubresource, PatchSubresource, UpdateSubresource } from '../api/requests.js';

/** Where and how to connect. Give `server` (https URL) or `socketPath`. */
export interface HttpClientOptions {
  /** e.g. https://127.0.0.1:6443 */
  server?: string;
  /** Unix socket of the API server (plain HTTP, no credentials needed). */
  socketPath?: string;
  /** PEM of the CA that signed the serving certificate. */
  ca?: string | Buffer;
  /** PEM client certificate and key. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Bearer token. */
  token?: string;
  /** Per-request timeout for non-watch requests, ms (default 30 000). */
  timeoutMs?: number;
}

/** Builds the resource URL path. */
export function resourcePath(res: ResourceInfo, namespace: string | undefined, name?: string, subresource?: string): string {
  let p = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  if (res.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${res.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function writeQuery(o: WriteOptions | undefined): Record<string, string | undefined> {
  return { dryRun: o?.dryRun, fieldManager: o?.fieldManager, fieldValidation: o?.fieldValidation };
}

/**
 * The HTTPS agent of one client: one server, one identity. Node's https.Agent keys its connection
 * pool by `getName(options)`, which it builds on every request from the host, port and the PEM of
 * the CA, certificate and key (Buffers decoded to strings each time): several KB of garbage per
 * request, a tenth of what a create + get + update allocated in bench/apiserver-http. All of this
 * client's requests share one pool anyway, so the name is one constant.
 */
class OneServerHttpsAgent extends HttpsAgent {
  override getName(): string {
    return 'apiserver';
  }
}

function transportError(e: Error): ApiError {
  return new ApiError(503, 'ServiceUnavailable', `cannot reach the API server: ${e.message}`);
}

/** The HTTP implementation of `Client`. Call `close()` to release pooled connections. */
export class HttpClient implements Client {
  private readonly agent: HttpAgent;
  private readonly base: RequestOptions;
  private readonly isHttps: boolean;
  private readonly timeoutMs: number;
  private readonly watches = new Set<ClientRequest>();

  constructor(private readonly opts: HttpClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    if (opts.socketPath) {
      this.isHttps = false;
      this.agent = new HttpAgent({ keepAlive: true });
      this.base = { socketPath: opts.socketPath };
    } else if (opts.server) {
      const u = new URL(opts.server);
      this.isHttps = u.protocol === 'https:';
      this.agent = this.isHttps
        ? new OneServerHttpsAgent({ keepAlive: true, ca: opts.ca, cert: opts.cert, key: opts.key })
        : new HttpAgent({ keepAlive: true });
      this.base = { hostname: u.hostname, port: u.port || (this.isHttps ? 443 : 80) };
    } else {
      throw new TypeError('HttpClient needs server or socketPath');
    }
  }

  private start(method: string, path: string, headers: Record<string, string>): ClientRequest {
    const h: Record<string, string> = { Accept: 'application/json', ...headers };
    if (this.opts.token) h.Authorization = `Bearer ${this.opts.token}`;
    const ro: RequestOptions = { ...this.base, method, path, headers: h, agent: this.agent };
    return (this.isHttps ? httpsRequest : httpRequest)(ro);
  }

  /** One request/response; JSON body in and out; non-2xx → ApiError from the Status. */
  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = payload ? { 'Content-Type': contentType, 'Content-Length': String(payload.length) } : {};
    return new Promise<T>((resolve, reject) => {
      const req = this.start(method, path, headers);
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`request timed out after ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(e instanceof ApiError ? e : transportError(e)));
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(transportError(e)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
          const code = res.statusCode ?? 500;
          if (code >= 200 && code < 300) { resolve(parsed as T); return; }
          const st = parsed && typeof parsed === 'object' && (parsed as { kind?: string }).kind === 'Status' ? parsed as object : { message: text || `HTTP ${code}` };
          reject(ApiError.fromStatus(st, code));
        });
      });
      req.end(payload);
    });
  }

  async get<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, subresource?: GetSubresource): Promise<T> {
    return this.request<T>('GET', resourcePath(res, namespace, name, subresource));
  }

  async list<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(res, namespace) + query({
      labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continue: opts.continue, resourceVersion: opts.resourceVersion,
    }));
  }

  async create<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts?: WriteOptions & { subresource?: CreateSubresource; name?: string }): Promise<T> {
    const ns = namespace ?? obj.metadata?.namespace;
    const path = opts?.subresource ? resourcePath(res, ns, opts.name ?? obj.metadata?.name, opts.subresource) : resourcePath(res, ns);
    return this.request<T>('POST', path + query(writeQuery(opts)), obj);
  }

  async update<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, obj: T, opts?: WriteOptions & { subresource?: UpdateSubresource }): Promise<T> {
    const ns = namespace ?? obj.metadata?.namespace;
    return this.request<T>('PUT', resourcePath(res, ns, obj.metadata?.name ?? '', opts?.subresource) + query(writeQuery(opts)), obj);
  }

  async patch<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts?: WriteOptions & { subresource?: PatchSubresource }): Promise<T> {
    return this.request<T>('PATCH', resourcePath(res, namespace, name, opts?.subresource) + query(writeQuery(opts)), patch, type);
  }

  async delete<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: opts?.propagationPolicy, gracePeriodSeconds: opts?.gracePeriodSeconds, preconditions: opts?.preconditions };
    return this.request<T>('DELETE', resourcePath(res, namespace, name) + query(writeQuery(opts)), body);
  }

  async deleteCollection<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, listOpts: ListOptions = {}, opts?: DeleteOptions): Promise<KubeList<T>> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: opts?.propagationPolicy, gracePeriodSeconds: opts?.gracePeriodSeconds, preconditions: opts?.preconditions };
    const q = query({ ...writeQuery(opts), labelSelector: listOpts.labelSelector, fieldSelector: listOpts.fieldSelector });
    return this.request<KubeList<T>>('DELETE', resourcePath(res, namespace) + q, body);
  }

  watch<T extends KubeObject = KubeObject>(res: ResourceInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    const path = resourcePath(res, namespace) + query({
      watch: 'true', labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined, timeoutSeconds: opts.timeoutSeconds,
      ...(opts.sendInitialEvents !== undefined ? { sendInitialEvents: String(opts.sendInitialEvents), resourceVersionMatch: 'NotOlderThan' } : {}),
    });
    let stopped = false;
    let req: ClientRequest | undefined;
    const done = new Promise<void>((resolve, reject) => {
      req = this.start('GET', path, {});
      this.watches.add(req);
      const settle = (e?: ApiError): void => { this.watches.delete(req!); if (e && !stopped) reject(e); else resolve(); };
      req.on('error', (e) => settle(transportError(e)));
      req.on('response', (resp: IncomingMessage) => {
        const code = resp.statusCode ?? 500;
        let buf = '';
        if (code !== 200) {
          resp.on('data', (c: Buffer) => { buf += c.toString('utf8'); });
          resp.on('end', () => {
            let st: object = { message: buf || `HTTP ${code}` };
            try { st = JSON.parse(buf) as object; } catch { /* not JSON */ }
            settle(ApiError.fromStatus(st, code));
          });
          return;
        }
        resp.setEncoding('utf8');
        let failure: ApiError | undefined;
        resp.on('data', (chunk: string) => {
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (!line || stopped) continue;
            let ev: WatchEvent<T>;
            try { ev = JSON.parse(line) as WatchEvent<T>; } catch { continue; }
            if (ev.type === 'ERROR') failure ??= ApiError.fromStatus(ev.object as object);
            onEvent(ev);
          }
        });
        resp.on('end', () => settle(failure));
        resp.on('error', (e) => settle(failure ?? transportError(e)));
        resp.on('aborted', () => settle(failure ?? transportError(new Error('watch connection aborted'))));
      });
      req.end();
    });
    return {
      stop: () => { stopped = true; req?.destroy(); },
      done,
    };
  }

  /** Ends running watches and closes pooled connections. */
  close(): void {
    for (const r of this.watches) r.destroy();
    this.watches.clear();
    this.agent.destroy();
  }
}

/** Builds an HttpClient from a kubeconfig file (current context, or `context`). */
export async function clientFromKubeconfig(path: string, context?: string): Promise<HttpClient> {
  // Loaded on demand: the YAML parser is most of the DNS server's start-up otherwise, and it talks
  // over the unix socket without a kubeconfig.
  const { readKubeconfig } = await import('./kubeconfig.js');
  const { server, ca, cert, key, token } = await readKubeconfig(path, context);
  return new HttpClient({ server, ca, cert, key, token });
}

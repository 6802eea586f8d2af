/**
 * Wires trace and flows into a running cluster (the daemon): one TraceRecorder fed by the API
 * server's write observer, the EndpointSlice controller's observer, each node proxy's `onSync` and
 * the DNS Pod's reports; one FlowHub with a collector per node namespace; and the API server
 * handlers that serve them (plus each node proxy's metrics). `src/cluster` calls this; nothing
 * here starts before the cluster asks.
 */
import { execFile } from 'node:child_process';
import { ApiError } from '../api/errors.js';
import type { Client } from '../client/client.js';
import type { ControllerObserver } from '../controllers/context.js';
import type { ExtraHandler, WriteRecord } from '../apiserver/http/server.js';
import type { Proxy, ProxyMode, SyncReport } from '../proxy/proxy.js';
import { FlowHub } from './flowshub.js';
import { flowsHandlers } from './flowshttp.js';
import type { OutsideReachability } from './tracemodel.js';
import { TraceRecorder } from './tracerecorder.js';
import { traceHandlers } from './tracehttp.js';

export interface ObservabilityOptions {
  /** The outside host's namespace (for "not reachable from outside" with the kernel's route answer). */
  outsideNetns?: string;
  /** Service CIDR (for the outside check's wording). */
  serviceCIDR: string;
}

/** `/api/v1/nodes/<node>:10249/proxy/metrics`: the node's kube-proxy metrics, as the API server's node proxy reaches them. */
const NODE_PROXY_METRICS = /^\/api\/v1\/nodes\/([^/:]+):10249\/proxy\/metrics$/;

/** Whether `ip` is routable from the outside host: the kernel's own `ip route get` answer there. */
export function outsideCheck(netns: string, serviceCIDR: string): (ip: string) => Promise<OutsideReachability> {
  const cache = new Map<string, { at: number; v: OutsideReachability }>();
  return (ip) => {
    const hit = cache.get(ip);
    if (hit && Date.now() - hit.at < 10_000) return Promise.resolve(hit.v);
    return new Promise((resolve) => {
      execFile('ip', ['-n', netns, 'route', 'get', ip], { timeout: 5000 }, (err, stdout, stderr) => {
        const answer = (String(stderr) || String(stdout)).trim().split('\n')[0] ?? '';
        const v: OutsideReachability = err
          ? { reachable: false, evidence: `ip route get ${ip} on the outside host (${netns}): ${answer} — it has no route to the Service CIDR ${serviceCIDR}; a ClusterIP is internal` }
          : { reachable: true, evidence: `ip route get ${ip} on the outside host (${netns}): ${answer}` };
        cache.set(ip, { at: Date.now(), v });
        resolve(v);
      });
    });
  };
}

export class Observability {
  readonly recorder = new TraceRecorder();
  private hub?: FlowHub;
  /** A FlowHub whose start() has not returned yet. */
  private starting?: { hub: FlowHub; done: Promise<void> };
  private stopped = false;
  private readonly proxies = new Map<string, Proxy>();
  readonly handlers: ExtraHandler[];

  constructor(private readonly opts: ObservabilityOptions) {
    this.handlers = [
      ...traceHandlers({ recorder: this.recorder, ...(opts.outsideNetns ? { outside: outsideCheck(opts.outsideNetns, opts.serviceCIDR) } : {}) }),
      ...flowsHandlers(() => this.hub),
      {
        match: (path, method) => method === 'GET' && NODE_PROXY_METRICS.test(path),
        handle: async (_req, res, { url }) => {
          const node = decodeURIComponent(NODE_PROXY_METRICS.exec(url.pathname)![1]!);
          const proxy = this.proxies.get(node);
          if (!proxy) throw new ApiError(404, 'NotFound', `nodes "${node}" not found`, { name: node, kind: 'nodes' });
          const text = await proxy.metricsText();
          res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
          res.end(text);
        },
      },
    ];
  }

  /** The API server's write observer. */
  readonly onWrite = (w: WriteRecord): void => this.recorder.apiWrite(w);

  /** The controllers' observer. */
  readonly controllerObserver: ControllerObserver = { sliceWritten: (w) => this.recorder.sliceWrite(w) };

  /** The `onSync` of node `node`'s proxy. */
  onSync(node: string, mode: ProxyMode): (r: SyncReport) => void {
    return (r) => this.recorder.proxySync(node, mode, r);
  }

  /** Registers a node's proxy (for its metrics path). */
  addProxy(node: string, proxy: Proxy): void {
    this.proxies.set(node, proxy);
  }

  /** Starts the flow collectors once the node namespaces exist. A collector that cannot run says why in `flows`. */
  async startFlows(client: Client, nodes: readonly { name: string; netns: string }[], hosts: ReadonlyMap<string, string>): Promise<FlowHub> {
    const hub = new FlowHub({ client, nodes, serviceCIDR: this.opts.serviceCIDR, hosts, onFlow: (f) => this.recorder.connection(f) });
    // Kept while it starts, so a stop() that comes meanwhile (`up` interrupted while the
    // collectors start) waits for the start and then ends the tools it spawned.
    const starting = hub.start();
    this.starting = { hub, done: starting };
    try {
      await starting;
    } finally {
      this.starting = undefined;
    }
    if (this.stopped) return hub; // stop() came during the start and ends this hub
    this.hub = hub;
    this.recorder.setClusterIPSource((key) => hub.serviceIP(key));
    return hub;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const starting = this.starting;
    await starting?.done.catch(() => undefined);
    const hub = this.hub ?? starting?.hub;
    this.hub = undefined;
    await hub?.stop();
  }
}

/**
 * The metrics pipeline metrics-server runs, inside the daemon: every `resolutionMs` (15 s, as
 * metrics-server's --metric-resolution) it samples each node agent's resource usage, keeps the last
 * two samples per node, and serves metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics from their
 * rates (rates.ts) through the registry's read-only provider seam — so `kubectl top`, the HPA
 * controller and any client read them as from Kubernetes' aggregated metrics API. Labels and
 * label selectors come from the Pods and Nodes themselves (read through the Client).
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import type { KubeList, KubeObject } from '../api/object.js';
import type { ListOptions } from '../api/requests.js';
import { R } from '../api/resources.js';
import type { NodeUsageSample, UsageSource } from '../api/usage.js';
import type { Client } from '../client/client.js';
import { nodeRates, podRates, type NodeRates, type PodRates } from './rates.js';

export interface MetricsServerOptions {
  client: Client;
  /** The node agents to sample (read on every round: nodes may come and go). */
  sources: () => readonly UsageSource[];
  /** Sampling period in ms. Default 15 000. */
  resolutionMs?: number;
}

/** What the registry's provider seam takes (src/apiserver/registry ReadOnlyProvider). */
export interface MetricsProvider {
  get(namespace: string | undefined, name: string): Promise<KubeObject>;
  list(namespace: string | undefined, opts: ListOptions): Promise<KubeList>;
}

function notFound(kind: 'pods' | 'nodes', name: string): ApiError {
  return new ApiError(404, 'NotFound', `${kind}.metrics.k8s.io "${name}" not found`, { name, group: 'metrics.k8s.io', kind });
}

export class MetricsServer {
  private readonly samples = new Map<string, NodeUsageSample[]>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  readonly resolutionMs: number;

  constructor(private readonly opts: MetricsServerOptions) {
    this.resolutionMs = opts.resolutionMs ?? 15_000;
  }

  /** Takes a first sample now and one every resolution. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.scrape().catch((e: unknown) => console.error('metrics: scrape failed:', e)).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.resolutionMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One sampling round over every node agent. */
  async scrape(): Promise<void> {
    const sources = this.opts.sources();
    const names = new Set(sources.map((s) => s.nodeName));
    for (const n of [...this.samples.keys()]) if (!names.has(n)) this.samples.delete(n);
    await Promise.all(sources.map(async (s) => {
      try {
        const sample = await s.resourceUsage();
        const list = this.samples.get(s.nodeName) ?? [];
        list.push(sample);
        this.samples.set(s.nodeName, list.slice(-2));
      } catch (e) {
        console.error(`metrics: node ${s.nodeName}:`, e instanceof Error ? e.message : e);
      }
    }));
  }

  private podRates(): PodRates[] {
    return [...this.samples.values()].flatMap((l) => (l.length === 2 ? podRates(l[0]!, l[1]!) : []));
  }

  private nodeRates(): NodeRates[] {
    return [...this.samples.values()].flatMap((l) => (l.length === 2 ? [nodeRates(l[0]!, l[1]!)].filter((x): x is NodeRates => !!x) : []));
  }

  private podObject(r: PodRates, pod: Pod): KubeObject {
    return {
      kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: r.name, namespace: r.namespace, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(pod.metadata?.labels ? { labels: pod.metadata.labels } : {}) },
      timestamp: r.timestamp, window: r.window, containers: r.containers,
    } as KubeObject;
  }

  private nodeObject(r: NodeRates, node: Node): KubeObject {
    return {
      kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: r.name, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(node.metadata?.labels ? { labels: node.metadata.labels } : {}) },
      timestamp: r.timestamp, window: r.window, usage: r.usage,
    } as KubeObject;
  }

  /** metrics.k8s.io/v1beta1 pods. */
  readonly pods: MetricsProvider = {
    get: async (ns, name) => {
      const r = this.podRates().find((x) => x.namespace === ns && x.name === name);
      if (!r) throw notFound('pods', name);
      const pod = await this.opts.client.get<Pod>(R.pods, ns, name).catch(() => { throw notFound('pods', name); });
      return this.podObject(r, pod);
    },
    list: async (ns, opts) => {
      const pods = await this.opts.client.list<Pod>(R.pods, ns, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
      const byKey = new Map(pods.items.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
      const items = this.podRates().filter((r) => byKey.has(`${r.namespace}/${r.name}`)).map((r) => this.podObject(r, byKey.get(`${r.namespace}/${r.name}`)!));
      items.sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
      return { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items };
    },
  };

  /** metrics.k8s.io/v1beta1 nodes. */
  readonly nodes: MetricsProvider = {
    get: async (_ns, name) => {
      const r = this.nodeRates().find((x) => x.name === name);
      if (!r) throw notFound('nodes', name);
      const node = await this.opts.client.get<Node>(R.nodes, undefined, name).catch(() => { throw notFound('nodes', name); });
      return this.nodeObject(r, node);
    },
    list: async (_ns, opts) => {
      const nodes = await this.opts.client.list<Node>(R.nodes, undefined, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
      const byName = new Map(nodes.items.map((n) => [n.metadata?.name ?? '', n]));
      const items = this.nodeRates().filter((r) => byName.has(r.name)).map((r) => this.nodeObject(r, byName.get(r.name)!));
      return { kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items };
    },
  };
}

/**
 * Names for the addresses in a flow: Service by ClusterIP and port, Pod by IP, node by its bridge or
 * underlay address, the outside host. Kept from Service and Pod informers (trimmed to what naming
 * needs), like every component's view; the lookups are Map gets, done once per connection event.
 */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { R } from '../api/resources.js';

export interface ServiceView {
  key: string;
  ips: string[];
  ports: { name: string; port: number; protocol: string }[];
  /** ClientIP affinity timeout (seconds); undefined for sessionAffinity None. */
  affinitySeconds?: number;
}

/** Pure lookup tables; `NameIndex` keeps them in step with the API. */
export class NameTables {
  readonly services = new Map<string, ServiceView>();
  private readonly byIP = new Map<string, ServiceView>();
  private readonly podsByIP = new Map<string, string>();
  private readonly podIPs = new Map<string, string>();
  /** Node and outside-host addresses → `node NAME` / `outside`. */
  readonly hosts = new Map<string, string>();

  setService(s: ServiceView | undefined, key: string): void {
    const old = this.services.get(key);
    for (const ip of old?.ips ?? []) if (this.byIP.get(ip) === old) this.byIP.delete(ip);
    if (!s) { this.services.delete(key); return; }
    this.services.set(key, s);
    for (const ip of s.ips) this.byIP.set(ip, s);
  }

  setPod(key: string, ip: string | undefined): void {
    const old = this.podIPs.get(key);
    if (old && this.podsByIP.get(old) === key) this.podsByIP.delete(old);
    if (!ip) { this.podIPs.delete(key); return; }
    this.podIPs.set(key, ip);
    this.podsByIP.set(ip, key);
  }

  serviceAt(ip: string): ServiceView | undefined {
    return this.byIP.get(ip);
  }

  /** `ns/name` of the Pod with this IP, `node X` / `outside` for those hosts, else undefined. */
  nameOf(ip: string): string | undefined {
    return this.podsByIP.get(ip) ?? this.hosts.get(ip);
  }

  podOf(ip: string): string | undefined {
    return this.podsByIP.get(ip);
  }
}

export function serviceView(s: Service): ServiceView | undefined {
  const spec = s.spec;
  const ips = (spec?.clusterIPs ?? (spec?.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None');
  if (!ips.length) return undefined;
  return {
    key: `${s.metadata?.namespace}/${s.metadata?.name}`, ips,
    ports: (spec?.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    ...(spec?.sessionAffinity === 'ClientIP' ? { affinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 } : {}),
  };
}

/** NameTables fed by Service and Pod informers (trimmed objects only). */
export class NameIndex extends NameTables {
  private readonly svcInformer: Informer<Service>;
  private readonly podInformer: Informer<Pod>;

  constructor(client: Client) {
    super();
    this.svcInformer = new Informer<Service>(client, R.services, {
      transform: (s) => ({ metadata: { namespace: s.metadata?.namespace, name: s.metadata?.name, resourceVersion: s.metadata?.resourceVersion }, spec: {
        clusterIP: s.spec?.clusterIP, clusterIPs: s.spec?.clusterIPs, ports: s.spec?.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
        sessionAffinity: s.spec?.sessionAffinity, sessionAffinityConfig: s.spec?.sessionAffinityConfig,
      } }),
    });
    this.podInformer = new Informer<Pod>(client, R.pods, {
      transform: (p) => ({ metadata: { namespace: p.metadata?.namespace, name: p.metadata?.name, resourceVersion: p.metadata?.resourceVersion },
        spec: { containers: [], hostNetwork: p.spec?.hostNetwork }, status: { podIP: p.status?.podIP } }),
    });
    const onSvc = (s: Service, gone: boolean) => {
      const key = `${s.metadata?.namespace}/${s.metadata?.name}`;
      this.setService(gone ? undefined : serviceView(s), key);
    };
    this.svcInformer.addHandlers({ onAdd: (s) => onSvc(s, false), onUpdate: (_o, s) => onSvc(s, false), onDelete: (s) => onSvc(s, true) });
    const onPod = (p: Pod, gone: boolean) => {
      const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
      this.setPod(key, gone || p.spec?.hostNetwork ? undefined : p.status?.podIP);
    };
    this.podInformer.addHandlers({ onAdd: (p) => onPod(p, false), onUpdate: (_o, p) => onPod(p, false), onDelete: (p) => onPod(p, true) });
  }

  async start(): Promise<void> {
    await Promise.all([this.svcInformer.start(), this.podInformer.start()]);
  }

  stop(): void {
    this.svcInformer.stop();
    this.podInformer.stop();
  }
}

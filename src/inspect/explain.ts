/**
 * `clusterip explain`: a Service's path, top to bottom, from the live system — its DNS names with
 * what the cluster DNS server answers now, its virtual IPs, the rules each node's kernel holds for
 * it (with per-endpoint connection counters), its EndpointSlices with each endpoint's conditions and
 * why it is not ready, and its Pods with the port targetPort resolves to and whether a process
 * listens there. `buildServiceExplanation` is pure (facts in, explanation out); `explainService`
 * gathers the facts and calls it. Same for Pods.
 */
import type { Event as CoreEvent, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { R } from '../api/resources.js';
import { selectorFromSet } from '../api/selectors.js';
import type { Client } from '../client/client.js';
import type { ClusterView } from './clusterview.js';
import { podDnsQuestions, serviceDnsQuestions } from './dnsnames.js';
import {
  askClusterDns, gatherServiceFacts, getPodOrNearest, getServiceOrNearest, readPodListeners, readServiceRules, type ServiceFacts,
} from './gather.js';
import { isPodReady, ownerOf, resolveTargetPort, restartsOf, whyNotReady } from './pods.js';
import { listeningOn } from './sockets.js';
import type {
  DnsNameView, EndpointView, ListenerView, NodeRulesView, PodExplanation, PodPortView, PodView, ServiceExplanation, ServicePortView,
  ServiceView, SliceView, VipView,
} from './types.js';

/** A Service as the explanation shows it (defaults applied, numeric-string targetPorts as numbers). */
export function serviceView(svc: Service): ServiceView {
  const spec = svc.spec ?? {};
  const headless = spec.clusterIP === 'None';
  const type = (spec.type ?? 'ClusterIP') as ServiceView['type'];
  const selector = spec.selector && Object.keys(spec.selector).length > 0 ? { ...spec.selector } : undefined;
  const affinity = spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None';
  return {
    namespace: svc.metadata!.namespace!, name: svc.metadata!.name!, type, headless,
    ...(spec.clusterIP && !headless && type !== 'ExternalName' ? { clusterIP: spec.clusterIP } : {}),
    ...(spec.externalName ? { externalName: spec.externalName } : {}),
    ...(selector ? { selector } : {}),
    sessionAffinity: affinity,
    ...(affinity === 'ClientIP' ? { affinityTimeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 } : {}),
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    ...((type === 'NodePort' || type === 'LoadBalancer') && spec.ports?.some((p) => p.nodePort) ? { nodePorts: spec.ports.filter((p) => p.nodePort).map((p) => p.nodePort!) } : {}),
    ...(type === 'LoadBalancer' && svc.status?.loadBalancer?.ingress?.some((i) => i.ip) ? { loadBalancerIPs: svc.status.loadBalancer.ingress.filter((i) => i.ip).map((i) => i.ip!) } : {}),
    ...(spec.externalIPs?.length ? { externalIPs: [...spec.externalIPs] } : {}),
    ports: (spec.ports ?? []).map((p): ServicePortView => {
      const tp = p.targetPort ?? p.port;
      return { name: p.name ?? '', protocol: (p.protocol ?? 'TCP') as ServicePortView['protocol'], port: p.port, targetPort: typeof tp === 'string' && /^\d+$/.test(tp) ? Number(tp) : tp };
    }),
  };
}

/** The Pods behind a Service: those its selector matches, and those its slices name. */
export function podsBehind(view: ServiceView, pods: readonly Pod[], slices: readonly EndpointSlice[]): Pod[] {
  const named = new Set<string>();
  for (const s of slices) for (const e of s.endpoints ?? []) if (e.targetRef?.kind === 'Pod' && e.targetRef.name) named.add(e.targetRef.name);
  const sel = view.selector ? selectorFromSet(view.selector) : undefined;
  return pods.filter((p) => named.has(p.metadata!.name!) || (sel !== undefined && sel.matches(p.metadata?.labels ?? {})))
    .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
}

/** One Pod with how each Service port reaches it. `listeners` undefined: sockets not read. */
export function podView(pod: Pod, ports: readonly ServicePortView[], listeners: readonly ListenerView[] | undefined, events: readonly CoreEvent[]): PodView {
  const portViews = ports.map((sp): PodPortView => {
    const r = resolveTargetPort(pod, sp);
    const l = r.port !== undefined && listeners ? listeningOn(listeners, r.port, sp.protocol === 'SCTP' ? 'SCTP' : sp.protocol) : undefined;
    return {
      servicePort: sp.name || String(sp.port), protocol: sp.protocol, targetPort: sp.targetPort,
      ...(r.port !== undefined ? { resolved: r.port } : {}), ...(r.container ? { container: r.container } : {}),
      declared: r.declared !== undefined,
      listening: r.port === undefined ? 'no' : l ? l.state : 'unknown',
      listeners: l?.matches.map(({ protocol, address, port, process }) => ({ protocol, address, port, ...(process ? { process } : {}) })) ?? [],
    };
  });
  const why = whyNotReady(pod, events);
  return {
    namespace: pod.metadata!.namespace!, name: pod.metadata!.name!,
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}), ...(pod.status?.podIP ? { ip: pod.status.podIP } : {}),
    phase: pod.status?.phase ?? 'Pending', ready: isPodReady(pod) && !pod.metadata?.deletionTimestamp,
    ...(why ? { why } : {}), restarts: restartsOf(pod), ...(ownerOf(pod) ? { owner: ownerOf(pod) } : {}),
    ports: portViews,
    ...(listeners ? { listeners: listeners.map(({ protocol, address, port, process }) => ({ protocol, address, port, ...(process ? { process } : {}) })) } : {}),
    hostNetwork: pod.spec?.hostNetwork === true,
  };
}

/** EndpointSlices with each endpoint's conditions and, when not ready, why (from its Pod). */
export function sliceViews(slices: readonly EndpointSlice[], pods: readonly Pod[], events: readonly CoreEvent[]): SliceView[] {
  const byName = new Map(pods.map((p) => [p.metadata!.name!, p]));
  return [...slices].sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!)).map((s): SliceView => ({
    name: s.metadata!.name!, addressType: s.addressType,
    ...(s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'] ? { managedBy: s.metadata.labels['endpointslice.kubernetes.io/managed-by'] } : {}),
    ports: (s.ports ?? []).map((p) => ({ name: p.name ?? '', ...(p.port !== undefined ? { port: p.port } : {}), protocol: p.protocol ?? 'TCP' })),
    endpoints: (s.endpoints ?? []).map((e): EndpointView => {
      const ready = e.conditions?.ready !== false;
      const serving = e.conditions?.serving ?? ready;
      const terminating = e.conditions?.terminating === true;
      const pod = e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined;
      const p = pod ? byName.get(pod) : undefined;
      const why = ready ? undefined : (p ? whyNotReady(p, events) : undefined) ?? (terminating ? 'terminating' : 'not ready');
      return {
        addresses: e.addresses, ready, serving, terminating,
        ...(e.nodeName ? { nodeName: e.nodeName } : {}), ...(pod ? { pod } : {}), ...(e.hostname ? { hostname: e.hostname } : {}),
        ...(why ? { why } : {}),
      };
    }),
  }));
}

/** The virtual IP:ports of a Service (none for headless and ExternalName). */
export function vipViews(v: ServiceView): VipView[] {
  if (!v.clusterIP) return [];
  return v.ports.map((p) => ({
    ip: v.clusterIP!, port: p.port, protocol: p.protocol, portName: p.name, targetPort: p.targetPort,
    sessionAffinity: v.sessionAffinity, ...(v.affinityTimeoutSeconds !== undefined ? { affinityTimeoutSeconds: v.affinityTimeoutSeconds } : {}),
  }));
}

/** Why a ClusterIP is unreachable from outside, and what to use instead. */
export function outsideView(v: ServiceView, cluster: Pick<ClusterView, 'name' | 'serviceCIDR'> & Partial<Pick<ClusterView, 'nodes'>>): ServiceExplanation['outside'] {
  const p = v.ports[0];
  const lb = v.loadBalancerIPs?.[0];
  const np = v.nodePorts?.[0];
  if (p && (lb || np)) {
    // NodePort / LoadBalancer: reachable from hosts on the underlay (never the ClusterIP itself).
    const nodeIPs = (cluster.nodes ?? []).map((n) => n.ip).filter((ip): ip is string => !!ip);
    const at = [
      ...(lb ? [`the LoadBalancer IP ${lb}:${p.port}`] : []),
      ...(np ? [`every node's address on NodePort ${np}${nodeIPs.length ? ` (${nodeIPs.map((ip) => `${ip}:${np}`).join(', ')})` : ''}`] : []),
    ];
    const out = `clusterip outside --name ${cluster.name} --`;
    return {
      reachable: true,
      why: `a ${v.type} Service answers hosts outside the cluster network at ${at.join(' and at ')}; its ClusterIP stays internal`,
      use: [
        ...(lb ? [`${out} wget -qO- http://${lb}${p.port === 80 ? '' : `:${p.port}`}/   # from the outside host`] : []),
        ...(np ? [`${out} wget -qO- http://${nodeIPs[0] ?? '<node-ip>'}:${np}/   # from the outside host`] : []),
        `kubectl port-forward -n ${v.namespace} svc/${v.name} 8080:${p.port}   # then http://127.0.0.1:8080 on this machine`,
      ],
    };
  }
  return {
    reachable: false,
    why: v.type === 'ExternalName'
      ? `an ExternalName Service is only a DNS alias (CNAME to ${v.externalName}) answered by the cluster DNS server`
      : `a ClusterIP exists only inside the cluster network: the nodes' rules translate it for traffic from Pods and nodes; hosts outside have no route to the Service CIDR ${cluster.serviceCIDR}`,
    use: p && v.type !== 'ExternalName'
      ? [`kubectl port-forward -n ${v.namespace} svc/${v.name} 8080:${p.port}   # then http://127.0.0.1:8080 on this machine`,
        `kubectl run -n ${v.namespace} tmp --rm -i --image=busybox --restart=Never -- wget -qO- http://${v.name}${p.port === 80 ? '' : `:${p.port}`}   # from inside the cluster`]
      : [],
  };
}

/** Live facts for a Service explanation (kernel, sockets, DNS). */
export interface LiveFacts {
  rules: NodeRulesView[];
  /** Listening sockets per network namespace (Error: unreadable). */
  listeners: Map<string, ListenerView[] | Error>;
  dns: DnsNameView[];
}

/** Pure: facts → explanation. */
export function buildServiceExplanation(cluster: ClusterView, facts: ServiceFacts, live: LiveFacts, readAt: Date): ServiceExplanation {
  const v = serviceView(facts.service);
  const warnings: string[] = [];
  const pods = podsBehind(v, facts.pods, facts.slices).map((p) => {
    const netns = cluster.podNetns(p);
    const l = netns ? live.listeners.get(netns) : undefined;
    if (l instanceof Error && p.status?.phase === 'Running') warnings.push(`pod ${p.metadata!.name}: ${l.message}`);
    return podView(p, v.ports, l instanceof Error ? undefined : l, facts.events);
  });
  for (const n of live.rules) if (n.error) warnings.push(`node ${n.node}: ${n.error}`);
  for (const d of live.dns) if (d.rcode === 'ERROR' && d.error) { warnings.push(`DNS: ${d.error}`); break; }
  return {
    kind: 'ServiceExplanation',
    readAt: readAt.toISOString(),
    cluster: { name: cluster.name, proxyMode: cluster.proxyMode, clusterDomain: cluster.clusterDomain, dnsServiceIP: cluster.dnsServiceIP },
    service: v,
    dns: live.dns,
    vips: vipViews(v),
    nodes: live.rules,
    slices: sliceViews(facts.slices, facts.pods, facts.events),
    pods,
    outside: outsideView(v, cluster),
    warnings,
  };
}

/** Reads the live facts of a Service: its rules on every node, its Pods' sockets, its DNS answers. */
export async function gatherLiveFacts(cluster: ClusterView, facts: ServiceFacts, signal?: AbortSignal): Promise<LiveFacts> {
  const v = serviceView(facts.service);
  const pods = podsBehind(v, facts.pods, facts.slices);
  const netns = pods.map((p) => cluster.podNetns(p)).filter((n): n is string => n !== undefined && pods.length > 0);
  const endpoints = sliceViews(facts.slices, facts.pods, facts.events).flatMap((s) => s.endpoints);
  const [rules, listeners, dns] = await Promise.all([
    readServiceRules(cluster, v, facts.slices, signal),
    readPodListeners(netns, signal),
    askClusterDns(cluster, serviceDnsQuestions(v, cluster.clusterDomain, endpoints), signal),
  ]);
  return { rules, listeners: listeners as Map<string, ListenerView[] | Error>, dns };
}

/** `clusterip explain svc/NAME`: gathers everything and builds the explanation. */
export async function explainService(client: Client, cluster: ClusterView, namespace: string, name: string, opts: { signal?: AbortSignal } = {}): Promise<ServiceExplanation> {
  const service = await getServiceOrNearest(client, namespace, name);
  const facts = await gatherServiceFacts(client, service);
  const live = await gatherLiveFacts(cluster, facts, opts.signal);
  return buildServiceExplanation(cluster, facts, live, new Date());
}

/** `clusterip explain pod/NAME`: the Pod, its DNS records, and each Service that sends it traffic. */
export async function explainPod(client: Client, cluster: ClusterView, namespace: string, name: string, opts: { signal?: AbortSignal } = {}): Promise<PodExplanation> {
  const pod = await getPodOrNearest(client, namespace, name);
  const services = (await client.list<Service>(R.services, namespace)).items;
  const slices = (await client.list<EndpointSlice>(R.endpointslices, namespace)).items;
  const ip = pod.status?.podIP;
  const mine = services.filter((s) => {
    const v = serviceView(s);
    if (v.selector && selectorFromSet(v.selector).matches(pod.metadata?.labels ?? {})) return true;
    return slices.some((sl) => sl.metadata?.labels?.['kubernetes.io/service-name'] === v.name && (sl.endpoints ?? []).some((e) => e.targetRef?.name === name || (ip && e.addresses.includes(ip))));
  });
  const events = whyNotReady(pod) ? (await client.list<CoreEvent>(R.events, namespace, { fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}` })).items : [];
  const netns = cluster.podNetns(pod);
  const allPorts = mine.flatMap((s) => serviceView(s).ports);
  const [listeners, dns, rulesPerService] = await Promise.all([
    netns ? readPodListeners([netns], opts.signal) : Promise.resolve(new Map()),
    askClusterDns(cluster, podDnsQuestions(namespace, ip, cluster.clusterDomain, pod.spec?.hostname, pod.spec?.subdomain), opts.signal),
    Promise.all(mine.map((s) => readServiceRules(cluster, serviceView(s), slices.filter((sl) => sl.metadata?.labels?.['kubernetes.io/service-name'] === s.metadata!.name), opts.signal))),
  ]);
  const l = netns ? listeners.get(netns) : undefined;
  const warnings: string[] = [];
  if (l instanceof Error) warnings.push(l.message);
  return {
    kind: 'PodExplanation',
    readAt: new Date().toISOString(),
    cluster: { name: cluster.name, proxyMode: cluster.proxyMode, clusterDomain: cluster.clusterDomain, dnsServiceIP: cluster.dnsServiceIP },
    pod: podView(pod, allPorts, l instanceof Error ? undefined : l, events),
    dns,
    services: mine.map((s, i) => {
      const v = serviceView(s);
      const endpoint = sliceViews(slices.filter((sl) => sl.metadata?.labels?.['kubernetes.io/service-name'] === v.name), [pod], events)
        .flatMap((sv) => sv.endpoints).find((e) => e.pod === name || (ip !== undefined && e.addresses.includes(ip)));
      const rules = rulesPerService[i]!.flatMap((n) => n.ports.map((p) => {
        const ep = p.endpoints.find((e) => e.ip === ip);
        return { node: n.node, port: `${p.port}/${p.protocol}${p.portName ? ` (${p.portName})` : ''}`, state: p.state, ...(ep ? { endpoint: ep } : {}) };
      }));
      return { service: v, ...(endpoint ? { endpoint } : {}), rules };
    }),
    warnings,
  };
}

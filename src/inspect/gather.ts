/**
 * The thin gatherers of explain and diagnose: API reads through the `Client` interface, the
 * proxy's rules read from each node's namespace (`nft list table` / `iptables-save -c`), listening
 * sockets (`ss -N`), and DNS answers asked from inside the cluster network. They only collect
 * facts; explain.ts and the checks turn facts into explanations and findings.
 */
import type { Endpoints, Event as CoreEvent, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isNotFound } from '../api/errors.js';
import { R } from '../api/resources.js';
import type { Client } from '../client/client.js';
import type { ClusterView } from './clusterview.js';
import type { DnsQuestion } from './dnsnames.js';
import { InspectError } from './errors.js';
import { inNetns } from './exec.js';
import { HelperError, runHelper, type DnsAnswer } from './helper.js';
import { iptRulesForService, parseIptablesSave } from './iptservice.js';
import { nearestNames } from './nearest.js';
import { parseNftTable } from './nfttext.js';
import { nftRulesForService } from './nftservice.js';
import { whyNotReady } from './pods.js';
import { parseDig } from './digtext.js';
import { sliceEndpoints, usable } from './endpoints.js';
import { readNftService } from './nftread.js';
import { readListeners, type Listener } from './sockets.js';
import type { DnsNameView, ListenerView, NodeRulesView, ServiceView } from './types.js';

/** What the API says about one Service. */
export interface ServiceFacts {
  service: Service;
  /** Its EndpointSlices (label kubernetes.io/service-name). */
  slices: EndpointSlice[];
  /** The legacy Endpoints object, if any. */
  endpoints?: Endpoints;
  /** Every Pod of the Service's namespace (the selector is evaluated against them, and the nearest label sets). */
  pods: Pod[];
  /** Events of the Pods that are not Ready (Unhealthy, FailedCreatePodSandBox, ...). */
  events: CoreEvent[];
}

/** Reads a Service or throws InspectError NotFound naming the nearest Services (also in other namespaces). */
export async function getServiceOrNearest(client: Client, namespace: string, name: string): Promise<Service> {
  try {
    return await client.get<Service>(R.services, namespace, name);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const all = await client.list<Service>(R.services, undefined);
  const near = nearestNames(name, namespace, all.items.map((s) => ({ namespace: s.metadata!.namespace!, name: s.metadata!.name! })));
  const list = near.map((n) => (n.namespace === namespace ? `svc/${n.name}` : `svc/${n.name} -n ${n.namespace}`));
  throw new InspectError('NotFound', `service "${name}" not found in namespace "${namespace}"` + (list.length ? `; did you mean ${list.join(', or ')}?` : ''), list);
}

/** Reads a Pod or throws InspectError NotFound naming the nearest Pods. */
export async function getPodOrNearest(client: Client, namespace: string, name: string): Promise<Pod> {
  try {
    return await client.get<Pod>(R.pods, namespace, name);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const all = await client.list<Pod>(R.pods, undefined);
  const near = nearestNames(name, namespace, all.items.map((p) => ({ namespace: p.metadata!.namespace!, name: p.metadata!.name! })));
  const list = near.map((n) => (n.namespace === namespace ? `pod/${n.name}` : `pod/${n.name} -n ${n.namespace}`));
  throw new InspectError('NotFound', `pod "${name}" not found in namespace "${namespace}"` + (list.length ? `; did you mean ${list.join(', or ')}?` : ''), list);
}

/** The events of the Pods in `pods` that are not Ready (one list per such Pod, by field selector). */
export async function eventsOfUnreadyPods(client: Client, namespace: string, pods: readonly Pod[]): Promise<CoreEvent[]> {
  const unready = pods.filter((p) => whyNotReady(p) !== undefined).slice(0, 20);
  const lists = await Promise.all(unready.map((p) => client.list<CoreEvent>(R.events, namespace, {
    fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${p.metadata!.name}`,
  }).then((l) => l.items, () => [])));
  return lists.flat();
}

/** Everything the API says about `service` (already read). */
export async function gatherServiceFacts(client: Client, service: Service): Promise<ServiceFacts> {
  const ns = service.metadata!.namespace!;
  const name = service.metadata!.name!;
  const [slices, endpoints, pods] = await Promise.all([
    client.list<EndpointSlice>(R.endpointslices, ns, { labelSelector: `kubernetes.io/service-name=${name}` }).then((l) => l.items),
    client.get<Endpoints>(R.endpoints, ns, name).catch((e: unknown) => { if (isNotFound(e)) return undefined; throw e; }),
    client.list<Pod>(R.pods, ns).then((l) => l.items),
  ]);
  const events = await eventsOfUnreadyPods(client, ns, pods);
  return { service, slices, endpoints, pods, events };
}

/** `iptables-save -c` of a node (nat and filter; ~0.1 s at 1k Services). */
async function readIptablesText(netns: string, signal?: AbortSignal): Promise<{ text: string } | { error: string }> {
  const r = await inNetns(netns, ['iptables-save', '-c'], { signal, timeoutMs: 60_000 });
  if (r.code !== 0) return { error: `iptables-save -c failed: ${r.stderr.trim()}` };
  return { text: r.stdout };
}

/**
 * The rules that carry Service `v` on every node (read in parallel): nftables entries read by key
 * (nftread.ts), or the KUBE-* rules picked out of `iptables-save -c`. `slices` say which entries
 * should exist, so the nftables reads ask for them directly.
 */
export async function readServiceRules(cluster: ClusterView, v: ServiceView, slices: readonly EndpointSlice[], signal?: AbortSignal): Promise<NodeRulesView[]> {
  const expected = v.ports.map((sp) => usable(sliceEndpoints(slices, sp)));
  return Promise.all(cluster.nodes.map(async (node): Promise<NodeRulesView> => {
    const base = { node: node.name, netns: node.netns, mode: cluster.proxyMode, proxy: cluster.proxyStatus(node.name) };
    // The userspace mode's kernel part is a redirect to its own listener: nothing per endpoint to read.
    if (!v.clusterIP || cluster.proxyMode === 'userspace') return { ...base, text: '', ports: [], hairpin: [] };
    const raw = cluster.proxyMode === 'nftables' ? await readNftService(node.netns, v, expected, signal) : await readIptablesText(node.netns, signal);
    if ('error' in raw) return { ...base, text: '', ports: [], hairpin: [], error: raw.error };
    const picked = cluster.proxyMode === 'nftables'
      ? nftRulesForService(parseNftTable(raw.text), v.clusterIP, v.ports)
      : iptRulesForService(parseIptablesSave(raw.text), v.clusterIP, v.ports);
    return { ...base, ...picked };
  }));
}

/** Listening sockets per network namespace (sockets.ts). */
export function readPodListeners(netns: readonly string[], signal?: AbortSignal): Promise<Map<string, Listener[] | Error>> {
  return readListeners(netns, { signal });
}

/**
 * Asks the cluster DNS server each question from inside node 0's network namespace (the cluster
 * network, where the kube-dns ClusterIP is routed): one `dig` for all of them (a Node.js helper if
 * dig is missing).
 */
export async function askClusterDns(cluster: ClusterView, questions: readonly DnsQuestion[], signal?: AbortSignal): Promise<DnsNameView[]> {
  const unique = [...new Map(questions.map((q) => [`${q.type} ${q.query}`, q])).values()];
  if (unique.length === 0) return [];
  let answers: DnsAnswer[] | undefined;
  let error: string | undefined;
  const dig = await inNetns(cluster.nodes[0]!.netns, ['dig', `@${cluster.dnsServiceIP}`, '+time=1', '+tries=1', '+noall', '+comments', '+answer',
    ...unique.flatMap((q) => [q.query, q.type])], { signal, timeoutMs: 5000 });
  if (dig.spawnError === undefined && !dig.timedOut) {
    answers = parseDig(dig.stdout, unique.map((q) => q.type));
  } else {
    try {
      answers = await runHelper({ netns: cluster.nodes[0]!.netns }, unique.map((q) => ({ op: 'dns' as const, server: cluster.dnsServiceIP, name: q.query, type: q.type, timeoutMs: 700 })), { signal }) as DnsAnswer[];
    } catch (e) {
      if (!(e instanceof HelperError)) throw e;
      error = e.message;
    }
  }
  const byKey = new Map(unique.map((q, i) => [`${q.type} ${q.query}`, answers?.[i]]));
  return questions.map((q) => {
    const a = byKey.get(`${q.type} ${q.query}`);
    return a ? { ...q, rcode: a.rcode, answers: a.answers, ...(a.error ? { error: a.error } : {}) } : { ...q, rcode: 'ERROR' as const, answers: [], error: error ?? 'not asked' };
  });
}

/**
 * The drop rules of the NetworkPolicy table (src/netpol) that dropped something, on every node:
 * their comment names the policies (`NetworkPolicy ingress: default/deny-all`).
 */
export async function readPolicyDrops(cluster: ClusterView, signal?: AbortSignal): Promise<{ node: string; comment: string; packets: number }[]> {
  const per = await Promise.all(cluster.nodes.map(async (node) => {
    const r = await inNetns(node.netns, ['nft', 'list', 'table', 'inet', 'clusterip-policy'], { signal }).catch(() => undefined);
    if (!r || r.code !== 0) return [];
    const out: { node: string; comment: string; packets: number }[] = [];
    for (const m of r.stdout.matchAll(/counter packets (\d+) bytes \d+ drop comment "([^"]*)"/g)) {
      if (Number(m[1]) > 0) out.push({ node: node.name, comment: m[2]!, packets: Number(m[1]) });
    }
    return out;
  }));
  return per.flat();
}

/**
 * The data `clusterip explain` and `clusterip diagnose` produce: what `-o json|yaml` prints and what
 * the web view draws. Everything here is plain JSON (no Maps, no Dates) so it crosses a process or
 * an HTTP response unchanged. Changing a field is changing a published format: add, do not rename.
 */
import type { ProxyStatus } from '../proxy/proxy.js';

/** Packet and byte counters as the kernel printed them for one rule or map element. */
export interface Counter {
  packets: number;
  bytes: number;
}

/** One port of a Service as its spec states it (defaults applied by the API server). */
export interface ServicePortView {
  /** '' for a single unnamed port. */
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  /** A number, or the name of a container port. */
  targetPort: number | string;
}

export interface ServiceView {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** clusterIP: None. */
  headless: boolean;
  /** The virtual IP (absent for headless and ExternalName Services). */
  clusterIP?: string;
  externalName?: string;
  /** Absent: a selectorless Service, whose endpoints are written by hand. */
  selector?: Record<string, string>;
  sessionAffinity: 'None' | 'ClientIP';
  /** ClientIP affinity timeout (10800 unless set). */
  affinityTimeoutSeconds?: number;
  publishNotReadyAddresses: boolean;
  ports: ServicePortView[];
  /** NodePorts (types NodePort and LoadBalancer), one per port that has one. */
  nodePorts?: number[];
  /** LoadBalancer ingress IPs (status.loadBalancer) and spec.externalIPs. */
  loadBalancerIPs?: string[];
  externalIPs?: string[];
}

/** The DNS response codes we tell apart (TIMEOUT / ERROR: no usable answer came back). */
export type DnsRcode = 'NOERROR' | 'NODATA' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'TIMEOUT' | 'ERROR';

/** One name of the Service and what the cluster DNS server answered for it just now. */
export interface DnsNameView {
  /** The name as a client writes it (`web`, `web.shop`, `web.shop.svc.cluster.local`, ...). */
  name: string;
  form: 'short' | 'namespaced' | 'fqdn' | 'srv' | 'endpoint' | 'pod';
  /** Who can use this form, e.g. "Pods in namespace shop (search shop.svc.cluster.local)". */
  usableFrom: string;
  /** The question sent (the fully qualified name the resolver's search path turns `name` into). */
  query: string;
  type: 'A' | 'SRV' | 'CNAME';
  rcode: DnsRcode;
  /** Answer data: addresses, `priority weight port target` for SRV, the target for CNAME. */
  answers: string[];
  /** Transport error or timeout text. */
  error?: string;
}

/** One virtual IP:port of the Service. */
export interface VipView {
  ip: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  portName: string;
  targetPort: number | string;
  sessionAffinity: 'None' | 'ClientIP';
  affinityTimeoutSeconds?: number;
}

/** One endpoint as a node's kernel holds it for one Service port. */
export interface KernelEndpoint {
  ip: string;
  port: number;
  /** The slot in `numgen random mod N` (nftables without affinity). */
  slot?: number;
  /** New connections sent to this endpoint since its rule/element was written. */
  counter?: Counter;
}

/** What a node's kernel does with one Service port. */
export interface KernelServicePort {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  portName: string;
  /** `endpoints`: DNAT to endpoints; `reject`: no endpoints, refused; `absent`: no rule matches. */
  state: 'endpoints' | 'reject' | 'absent';
  /** Connections that matched this ClusterIP:port (the verdict map element or KUBE-SERVICES rule). */
  counter?: Counter;
  endpoints: KernelEndpoint[];
  /** nftables: `numgen random mod N` — must equal the number of endpoint elements. */
  modulus?: number;
  /** ClientIP affinity timeout as the kernel has it (nft set timeout / iptables recent --seconds). */
  affinityTimeoutSeconds?: number;
}

/** The rules one node holds for the Service, read from its network namespace just now. */
export interface NodeRulesView {
  node: string;
  /** The node's network namespace (`ip netns exec <netns> nft list table ip clusterip`). */
  netns: string;
  mode: 'nftables' | 'iptables' | 'userspace';
  /** The rule, map and set lines that carry this Service, as `nft list` / `iptables-save -c` print them. */
  text: string;
  ports: KernelServicePort[];
  /** Hairpin: endpoint IPs with a `ip . ip` element in hairpin-endpoints (nftables) or a hairpin masquerade rule. */
  hairpin: string[];
  /** The proxy's last syncs on this node (absent when the daemon did not publish them). */
  proxy?: ProxyStatus;
  /** Set when the rules could not be read. */
  error?: string;
}

/** One endpoint of an EndpointSlice with its conditions, and why it is not ready. */
export interface EndpointView {
  addresses: string[];
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
  /** The Pod behind it (targetRef). */
  pod?: string;
  hostname?: string;
  /** Why it is not ready (probe failure, container waiting reason, ...). */
  why?: string;
}

export interface SliceView {
  name: string;
  addressType: string;
  /** Managed by the EndpointSlice controller, or written by someone else. */
  managedBy?: string;
  ports: { name: string; port?: number; protocol: string }[];
  endpoints: EndpointView[];
}

/** What a process in the Pod's network namespace listens on, e.g. `0.0.0.0:80/TCP nginx`. */
export interface ListenerView {
  protocol: 'TCP' | 'UDP';
  address: string;
  port: number;
  process?: string;
}

/** How one Service port reaches one Pod. */
export interface PodPortView {
  /** The Service port's name, or its number when unnamed. */
  servicePort: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  targetPort: number | string;
  /** The container port targetPort resolves to (undefined: a name no container defines). */
  resolved?: number;
  container?: string;
  /** The container declares this port in `ports` (informational in Kubernetes: not required). */
  declared: boolean;
  /** `yes`: a socket listens on a non-loopback address; `loopback`: on 127.0.0.1/::1 only. */
  listening: 'yes' | 'no' | 'loopback' | 'unknown';
  /** Sockets on this port. */
  listeners: ListenerView[];
}

export interface PodView {
  namespace: string;
  name: string;
  node?: string;
  ip?: string;
  phase: string;
  ready: boolean;
  /** Why not ready (or why not running). */
  why?: string;
  restarts: number;
  /** The workload owning it, e.g. `ReplicaSet/web-5fd58b4b97`. */
  owner?: string;
  ports: PodPortView[];
  /** Everything that listens in the Pod's network namespace (absent when it could not be read). */
  listeners?: ListenerView[];
  hostNetwork: boolean;
}

/** `clusterip explain svc/NAME -o json`. */
export interface ServiceExplanation {
  kind: 'ServiceExplanation';
  /** When the facts were read (ISO). */
  readAt: string;
  cluster: { name: string; proxyMode: 'nftables' | 'iptables' | 'userspace'; clusterDomain: string; dnsServiceIP: string };
  service: ServiceView;
  dns: DnsNameView[];
  vips: VipView[];
  nodes: NodeRulesView[];
  slices: SliceView[];
  /** The Pods behind the Service: selected ones, and Pods named by slice targetRefs. */
  pods: PodView[];
  /**
   * Whether hosts outside the cluster network reach the Service (a NodePort or LoadBalancer: yes,
   * at the nodes' addresses or its LoadBalancer IP; a ClusterIP: no), why, and what to use.
   */
  outside: { reachable: boolean; why: string; use: string[] };
  /** Facts that could not be gathered (each names what and why); the rest is still shown. */
  warnings: string[];
}

/** `clusterip explain pod/NAME -o json`. */
export interface PodExplanation {
  kind: 'PodExplanation';
  readAt: string;
  cluster: ServiceExplanation['cluster'];
  pod: PodView;
  /** The Pod's own DNS records (`a-b-c-d.ns.pod.<domain>`, hostname.subdomain). */
  dns: DnsNameView[];
  /** Each Service whose selector or slices include this Pod, with this Pod's endpoint and rules. */
  services: {
    service: ServiceView;
    endpoint?: EndpointView;
    /** Per node: the kernel endpoints of this Service that point at the Pod. */
    rules: { node: string; port: string; endpoint?: KernelEndpoint; state: KernelServicePort['state'] }[];
  }[];
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// diagnose

export type Verdict = 'pass' | 'info' | 'warn' | 'fail' | 'skip';

/** The checklist, in the order it is printed (Kubernetes' "Debug Services" steps and the seeds' mistakes). */
export const CHECKS = [
  'service', 'selector', 'pods-ready', 'target-port', 'endpoints-agree', 'dns', 'proxy', 'network-policy',
  'reachability', 'hairpin', 'session-affinity', 'outside', 'probe',
] as const;
export type CheckName = typeof CHECKS[number];

/** One verdict of one check, with the evidence it rests on and the fix as commands to run. */
export interface Finding {
  check: CheckName;
  verdict: Verdict;
  /** Stable machine-readable code (e.g. `SelectorMatchesNothing`, `TargetPortNotListening`). */
  code: string;
  /** One line, names the fault or the success. */
  title: string;
  /** What was observed (read from the API, the kernel, or a real probe). */
  evidence: string[];
  /** Commands that fix it (empty for pass/info/skip). */
  fix: string[];
}

/** `clusterip diagnose svc/NAME -o json`. */
export interface ServiceDiagnosis {
  kind: 'ServiceDiagnosis';
  service: { namespace: string; name: string };
  /** The namespace the probe was placed in (the Service's own unless --from). */
  from: string;
  probe?: { pod: string; namespace: string; node?: string; ip?: string; placedMs?: number };
  findings: Finding[];
  /** Worst verdict: fail > warn > pass (info and skip do not count). */
  result: 'pass' | 'warn' | 'fail';
  durationMs: number;
}

/** `clusterip diagnose` (every Service) `-o json`. */
export interface ClusterDiagnosis {
  kind: 'ClusterDiagnosis';
  services: ServiceDiagnosis[];
  result: 'pass' | 'warn' | 'fail';
  durationMs: number;
}

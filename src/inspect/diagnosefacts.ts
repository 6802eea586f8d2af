/**
 * Everything `diagnose` observed about one Service, handed to the pure checks (checks/*.ts): the
 * explanation (API objects, kernel rules, sockets, DNS answers from the node), the Pods of other
 * namespaces that its selector would match, the cluster DNS Pods, and the results of the real
 * probes — name lookups and connections from the probe Pod, a connection from the outside host,
 * and the hairpin test from one of the Service's own Pods.
 */
import type { Endpoints, Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { LookupAnswer, DnsAnswer, TcpAnswer, TcpRepeatAnswer } from './helper.js';
import type { ServiceExplanation } from './types.js';

/** The cluster facts a check may cite. */
export interface DiagnoseCluster {
  name: string;
  serviceCIDR: string;
  podCIDR: string;
  clusterDomain: string;
  dnsServiceIP: string;
  proxyMode: 'nftables' | 'iptables' | 'userspace';
  /** Where users add images (`<stateDir>/images.json`), for ImagePullBackOff fixes. */
  imagesFile?: string;
}

/** One name looked up with the probe Pod's own resolver (getaddrinfo, its resolv.conf). */
export interface ProbeLookup {
  name: string;
  form: 'short' | 'namespaced' | 'fqdn';
  answer: LookupAnswer;
}

/** A connection from the probe. */
export interface ProbeConnect {
  ip: string;
  port: number;
  protocol: 'TCP';
  /** The Service port it stands for (name or number). */
  servicePort: string;
  /** For an endpoint: the Pod behind it. */
  pod?: string;
  answer: TcpAnswer;
}

/** Where the probe ran, or why it could not. */
export type ProbeState =
  | { placed: true; pod: string; namespace: string; node: string; ip: string; placedMs: number }
  | { placed: false; reason: string }
  | { placed: false; skipped: true; reason: string };

export interface HairpinResult {
  pod: string;
  podIP: string;
  vip: string;
  port: number;
  attempts: TcpRepeatAnswer;
  /** Connections (of ours) the node's conntrack shows DNATed back to the same Pod. */
  selfConnections: number;
  /** The Pod's bridge port has hairpin mode on (read from the node). */
  bridgeHairpin?: boolean;
  error?: string;
}

/** A not-ready Pod's readiness probe, run once more now from its node (as the kubelet runs it). */
export interface ReadinessRecheck {
  pod: string;
  container: string;
  /** Index of the container in the Pod spec (for a patch path). */
  containerIndex: number;
  kind: 'httpGet' | 'tcpSocket';
  /** e.g. `GET http://10.244.0.8:80/healthz` or `TCP 10.244.0.8:8080`. */
  probe: string;
  /** e.g. `HTTP 404`, `connected`, `ECONNREFUSED`. */
  result: string;
  /** The kubelet's rule: HTTP 200–399, or a TCP connection. */
  passes: boolean;
  path?: string;
  /** httpGet failing with a status: the same GET on `/`, to suggest a path the app does answer. */
  root?: { result: string; passes: boolean };
}

export interface DiagnoseFacts {
  cluster: DiagnoseCluster;
  /** The namespace the probe was placed in (the Service's own unless --from). */
  from: string;
  explanation: ServiceExplanation;
  /** Raw objects, for checks that need more than the explanation shows. */
  slices: EndpointSlice[];
  endpoints?: Endpoints;
  /** Every Pod of the Service's namespace. */
  pods: Pod[];
  /** Pods in other namespaces matching the selector (read only when the selector matches nothing here). */
  podsElsewhere: Pod[];
  /** The cluster DNS Pods (kube-system, k8s-app=kube-dns). */
  dnsPods: Pod[];
  probe: ProbeState;
  /** The probe Pod's /etc/resolv.conf. */
  resolvConf?: string;
  lookups: ProbeLookup[];
  /** CNAME asked directly of the DNS server (ExternalName). */
  cname?: DnsAnswer;
  vipConnects: ProbeConnect[];
  endpointConnects: ProbeConnect[];
  /** A connection to the ClusterIP from the outside host (expected to fail). */
  outside?: { ip: string; port: number; answer?: TcpAnswer; error?: string };
  hairpin?: HairpinResult;
  /** Readiness probes of not-ready Pods, run again now. */
  readiness?: ReadinessRecheck[];
  /**
   * NetworkPolicies (every namespace), the namespaces (their labels), the probe Pod as the API has
   * it, and the kernel's drop counters of the policy table on each node (absent when not read).
   */
  networkPolicy?: { policies: NetworkPolicy[]; namespaces: Namespace[]; probePod?: Pod; drops?: { node: string; comment: string; packets: number }[] };
  /** The rules were read twice (a difference on the first read may be a sync in flight). */
  rulesRereadAfterMs?: number;
}

/**
 * The web view's topology data: what `GET /ui/api/topology` sends the page. A compact projection of
 * the API objects the daemon already watches (Namespaces, Nodes, Services, EndpointSlices, Pods) —
 * only the fields the page draws, so 10k Pods fit in a few MB — never a second source of truth: every
 * record is recomputed from the object on each watch event (topology.ts). Shared by the server and
 * the page (plain JSON; fields are only ever added).
 */

export interface NodeRec {
  name: string;
  ready: boolean;
  /** Why not ready (the Ready condition's reason/message). */
  why?: string;
  podCIDR?: string;
  internalIP?: string;
}

export interface NamespaceRec {
  name: string;
  phase: string;
}

export interface ServicePortRec {
  /** '' for a single unnamed port. */
  name: string;
  protocol: string;
  port: number;
  /** A number, or the name of a container port. */
  targetPort: number | string;
}

export interface ServiceRec {
  namespace: string;
  name: string;
  type: string;
  /** Absent for headless (clusterIP None) and ExternalName Services. */
  clusterIP?: string;
  headless: boolean;
  externalName?: string;
  /** Absent: a selectorless Service. */
  selector?: Record<string, string>;
  ports: ServicePortRec[];
  sessionAffinity: string;
}

export interface EndpointRec {
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** `name` of the Pod behind it (same namespace as the slice). */
  pod?: string;
  node?: string;
}

export interface SliceRec {
  namespace: string;
  name: string;
  /** The Service it belongs to (label kubernetes.io/service-name). */
  service?: string;
  ports: { name: string; port?: number; protocol: string }[];
  endpoints: EndpointRec[];
}

export interface ContainerPortRec {
  container: string;
  name?: string;
  port: number;
  protocol: string;
}

export interface PodRec {
  namespace: string;
  name: string;
  ip?: string;
  node?: string;
  phase: string;
  ready: boolean;
  /** Why it is not ready (a container's waiting reason, the Ready condition's message, ...). */
  why?: string;
  labels: Record<string, string>;
  ports: ContainerPortRec[];
  /** e.g. ReplicaSet/web-5fd58b4b97 */
  owner?: string;
  deleting?: boolean;
}

export type TopologyKind = 'nodes' | 'namespaces' | 'services' | 'endpointslices' | 'pods';

/** One record of a kind, keyed `namespace/name` (or `name` for nodes and namespaces). */
export type TopologyRecord = NodeRec | NamespaceRec | ServiceRec | SliceRec | PodRec;

export interface TopologySnapshot {
  nodes: NodeRec[];
  namespaces: NamespaceRec[];
  services: ServiceRec[];
  endpointslices: SliceRec[];
  pods: PodRec[];
}

/**
 * `GET /ui/api/topology` (JSON) is one `snapshot`. With `follow=1` (NDJSON) the snapshot comes in
 * parts — `begin`, `records` lines of at most SNAPSHOT_PART records, `ready` — so the page parses
 * and applies it in short tasks (one 4 MB line was a 300 ms task at 10k Pods), then deltas.
 */
export type TopologyUpdate =
  | { type: 'snapshot'; at: number; snapshot: TopologySnapshot; cluster: ClusterInfo }
  | { type: 'begin'; at: number; cluster: ClusterInfo }
  | { type: 'records'; kind: TopologyKind; recs: TopologyRecord[] }
  | { type: 'ready'; at: number }
  /** Changes since the last line (coalesced per object: only its latest state). `at`: when sent (epoch ms). */
  | { type: 'delta'; at: number; upserts: { kind: TopologyKind; rec: TopologyRecord }[]; deletes: { kind: TopologyKind; key: string }[] };

/** Records per `records` line of a followed snapshot. */
export const SNAPSHOT_PART = 500;

/** What the page shows in its header and needs to know about the daemon. */
export interface ClusterInfo {
  name: string;
  /** The signed-in user (the kubeconfig user that minted the login token). */
  user: string;
  /** Which parts are available in this daemon. */
  features: { trace: boolean; flows: boolean; explain: boolean; diagnose: boolean };
}

/** The key of a record: `namespace/name`, or `name` for cluster-scoped kinds. */
export function recordKey(kind: TopologyKind, rec: TopologyRecord): string {
  return kind === 'nodes' || kind === 'namespaces' ? rec.name : `${(rec as { namespace: string }).namespace}/${rec.name}`;
}

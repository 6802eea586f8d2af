/**
 * The flows' data: one record per connection event through the Service data plane, as the API
 * serves it at `/debug/clusterip/flows` (JSON, and NDJSON when following). The CLI (`clusterip
 * flows`) and the web view read exactly these shapes; fields are only ever added.
 *
 * One record names both ends and the virtual IP together: conntrack's original tuple is client →
 * ClusterIP:port, its reply tuple backend → client, so the Service and the Pod it was translated to
 * are on the same line (what Hubble cannot link after DNAT, cilium#21251).
 */

/** One end of a connection, with the name the cluster gives its address. */
export interface FlowPeer {
  ip: string;
  port: number;
  /** `namespace/name` of a Pod, `node NAME`, `outside` (the outside host), or absent when unknown. */
  name?: string;
}

export interface FlowRecord {
  /** Unique per node: `<node>/<conntrack id>` (`<node>/r<n>` for refused packets). */
  id: string;
  node: string;
  /**
   * new: the connection was created (its first packet passed); destroy: it ended (bytes/packets
   * final); refused: a packet to a Service address was rejected or dropped (no connection exists).
   */
  event: 'new' | 'destroy' | 'refused';
  at: number;
  proto: string;
  client: FlowPeer;
  /** The Service address the client asked for. */
  service?: { ip: string; port: number; name?: string; portName?: string };
  /** Where the connection was translated to (DNAT), from the reply tuple. */
  backend?: { ip: string; port: number; pod?: string };
  /** TCP state at this event (SYN_SENT, ESTABLISHED, TIME_WAIT...). */
  state?: string;
  /** From the client's side, IP-level bytes and packets (conntrack accounting; destroy events and listings). */
  sent?: { bytes: number; packets: number };
  received?: { bytes: number; packets: number };
  verdict: 'forwarded' | 'rejected' | 'dropped';
  /** For refused packets: why the Service refused it (no endpoints, no such port, no such Service). */
  reason?: string;
  /** For refused packets: the table, chain and rule that refused it, from the kernel's trace. */
  kernelRule?: string;
  /** ClientIP session affinity: whether this connection went to the same backend as the client's previous one. */
  affinity?: { timeoutSeconds: number; sticky: boolean; first: boolean };
  /** destroy: time since the new event, when it was seen. */
  durationMs?: number;
}

/** Per node: what the collector saw and what it could not show. */
export interface NodeFlowStats {
  node: string;
  /** false when the collector could not start; `missing` says what is missing. */
  ok: boolean;
  missing?: string;
  /** New connections to Service addresses the kernel counted (nft counter), and how many were shown. */
  kernelNew: number;
  seenNew: number;
  /**
   * Connections the kernel counted that were not shown: shed above the collector's rate limit, or
   * lost in an event socket overrun. Updated once events calm (see FlowHub.reconcile).
   */
  lost: number;
  /** Times the event socket overflowed (the tool's ENOBUFS warning); `lost` is counted once events calm. */
  overruns?: number;
  /** Times events were shed because the node's rate passed the collector's limit (2000/s by default). */
  sheds: number;
  /** Events are being shed right now. */
  shedding?: boolean;
  destroyed: number;
  refused: number;
}

export interface FlowStats {
  nodes: NodeFlowStats[];
  /** Lines this reader did not get because it read too slowly (streams only). */
  droppedForSlowReader?: number;
}

/** `GET /debug/clusterip/flows?[service=ns/name|pod=ns/name|namespace=ns]`. */
export interface FlowList {
  kind: 'FlowList';
  flows: FlowRecord[];
  stats: FlowStats;
}

/** One line of `GET /debug/clusterip/flows?...&follow=1` (NDJSON). */
export type FlowUpdate =
  | { type: 'flow'; flow: FlowRecord }
  | { type: 'stats'; stats: FlowStats };

/** A filter on flows (the query of the endpoint; `clusterip flows svc/NAME | pod/NAME | -n NS`). */
export interface FlowFilter {
  service?: string;
  pod?: string;
  namespace?: string;
}

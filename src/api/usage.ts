/**
 * What a node agent reports about resource use (the data behind the kubelet's /metrics/resource and
 * the metrics.k8s.io API): cumulative CPU seconds and current working-set bytes, for the node and
 * for every container of every Pod it runs. Shared by the node agent (which measures) and the
 * metrics server (which turns two samples into rates).
 */

/** One container's usage. */
export interface ContainerUsage {
  name: string;
  /** CPU time consumed since the container started, in core-seconds (a counter). */
  cpuSeconds: number;
  /** Resident memory of its processes, in bytes (a gauge). */
  memoryBytes: number;
  /** When the container started (epoch seconds). */
  startTime?: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  containers: ContainerUsage[];
}

/** A node's sample, taken at `at` (epoch ms). */
export interface NodeUsageSample {
  node: string;
  at: number;
  /** The node as a whole (core-seconds since boot; working-set bytes). */
  cpuSeconds: number;
  memoryBytes: number;
  pods: PodUsage[];
}

/** What the metrics server asks each node for. */
export interface UsageSource {
  readonly nodeName: string;
  resourceUsage(): Promise<NodeUsageSample>;
}

/**
 * The kubelet's /metrics/resource, from a node's usage sample (Prometheus text with the kubelet's
 * metric names, [STABLE] help texts and explicit sample timestamps — which prom-client does not
 * emit, hence written here): node_, pod_ and container_ cpu_usage_seconds_total /
 * memory_working_set_bytes, container_start_time_seconds, resource_scrape_error.
 */
import type { NodeUsageSample } from '../api/usage.js';

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function formatResourceMetrics(s: NodeUsageSample): string {
  const ts = s.at;
  const lines: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: [Record<string, string>, number][]): void => {
    lines.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`).join(',');
      lines.push(`${name}${l ? `{${l}}` : ''} ${v} ${ts}`);
    }
  };
  const containers = s.pods.flatMap((p) => p.containers.map((c) => ({ p, c })));
  family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the container in core-seconds',
    containers.map(({ p, c }) => [{ container: c.name, namespace: p.namespace, pod: p.name }, c.cpuSeconds]));
  family('container_memory_working_set_bytes', 'gauge', 'Current working set of the container in bytes',
    containers.map(({ p, c }) => [{ container: c.name, namespace: p.namespace, pod: p.name }, c.memoryBytes]));
  family('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds',
    containers.filter(({ c }) => c.startTime !== undefined).map(({ p, c }) => [{ container: c.name, namespace: p.namespace, pod: p.name }, c.startTime!]));
  family('node_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the node in core-seconds', [[{}, s.cpuSeconds]]);
  family('node_memory_working_set_bytes', 'gauge', 'Current working set of the node in bytes', [[{}, s.memoryBytes]]);
  family('pod_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the pod in core-seconds',
    s.pods.map((p) => [{ namespace: p.namespace, pod: p.name }, p.containers.reduce((a, c) => a + c.cpuSeconds, 0)]));
  family('pod_memory_working_set_bytes', 'gauge', 'Current working set of the pod in bytes',
    s.pods.map((p) => [{ namespace: p.namespace, pod: p.name }, p.containers.reduce((a, c) => a + c.memoryBytes, 0)]));
  lines.push('# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise', '# TYPE resource_scrape_error gauge', 'resource_scrape_error 0');
  return `${lines.join('\n')}\n`;
}

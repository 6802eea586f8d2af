/**
 * metrics-server's arithmetic, pure: two cumulative samples of a node's usage become the
 * metrics.k8s.io objects — CPU as the rate between them (nanocores), memory as the newer working
 * set (Ki), `timestamp` the newer sample's time and `window` the time between the two. A container
 * seen in only one sample (just started, or restarted: its counter went back) has no rate yet, and
 * a Pod is reported only when all of its measured containers have one (as metrics-server does).
 */
import type { NodeUsageSample } from '../api/usage.js';

export interface Usage { cpu: string; memory: string }

export interface PodRates {
  namespace: string;
  name: string;
  containers: { name: string; usage: Usage }[];
  timestamp: string;
  window: string;
}

export interface NodeRates { name: string; usage: Usage; timestamp: string; window: string }

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Nanocores and Ki, the units metrics-server reports in. */
export function usageOf(cores: number, bytes: number): Usage {
  return { cpu: `${Math.max(0, Math.round(cores * 1e9))}n`, memory: `${Math.max(0, Math.round(bytes / 1024))}Ki` };
}

/** Go's time.Duration text for whole or fractional seconds (`15s`, `1.5s`). */
function window(ms: number): string {
  const s = Math.round(ms) / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
}

export function podRates(prev: NodeUsageSample, cur: NodeUsageSample): PodRates[] {
  const dt = (cur.at - prev.at) / 1000;
  if (dt <= 0) return [];
  const before = new Map(prev.pods.flatMap((p) => p.containers.map((c) => [`${p.namespace}/${p.name}/${c.name}`, c] as const)));
  const out: PodRates[] = [];
  for (const p of cur.pods) {
    const containers: PodRates['containers'] = [];
    let complete = true;
    for (const c of p.containers) {
      const b = before.get(`${p.namespace}/${p.name}/${c.name}`);
      if (!b || b.cpuSeconds > c.cpuSeconds || (b.startTime !== undefined && c.startTime !== undefined && Math.abs(b.startTime - c.startTime) > 1)) { complete = false; break; }
      containers.push({ name: c.name, usage: usageOf((c.cpuSeconds - b.cpuSeconds) / dt, c.memoryBytes) });
    }
    if (complete && containers.length) out.push({ namespace: p.namespace, name: p.name, containers, timestamp: rfc3339(cur.at), window: window(cur.at - prev.at) });
  }
  return out;
}

export function nodeRates(prev: NodeUsageSample, cur: NodeUsageSample): NodeRates | undefined {
  const dt = (cur.at - prev.at) / 1000;
  if (dt <= 0 || cur.cpuSeconds < prev.cpuSeconds) return undefined;
  return { name: cur.node, usage: usageOf((cur.cpuSeconds - prev.cpuSeconds) / dt, cur.memoryBytes), timestamp: rfc3339(cur.at), window: window(cur.at - prev.at) };
}

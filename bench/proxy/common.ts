/**
 * Shared pieces of the proxy benchmarks: the API (real in-process core when present, else the
 * in-memory fake), a scratch node namespace, bulk object builders, the BENCH line printer and
 * percentiles.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { makeTestApi } from '../../test/e2e/proxy-api.js';

export { makeTestApi };

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** A bare network namespace for rules-only benchmarks; returns its name and a remover. */
export function scratchNetns(): { ns: string; remove(): void } {
  const ns = `cip-${randomBytes(2).toString('hex')}-n0`;
  execFileSync('ip', ['netns', 'add', ns]);
  const onSignal = (): void => { remove(); process.exit(143); };
  const remove = (): void => {
    process.off('exit', remove);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
  };
  // Also when the run is cut short: 'exit' does not fire when a signal ends the process.
  process.once('exit', remove);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return { ns, remove };
}

export function svcObj(ns: string, name: string, ip: string): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name },
    spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], sessionAffinity: 'None', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } };
}

export function sliceObj(ns: string, svc: string, ips: string[], gen = 0): EndpointSlice {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: ns, name: `${svc}-s`, labels: { 'kubernetes.io/service-name': svc },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString(), gen: String(gen) } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })) };
}

/** i-th Service's ClusterIP (10.96.0.0/12 has room for 1M). */
export function svcIp(i: number): string {
  const n = 0x0a600000 + 100 + i;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** j-th endpoint IP of the i-th Service, inside 10.244.0.0/16 (wrapping is fine for rules-only runs). */
export function epIp(i: number, j: number): string {
  const n = (i * 10 + j) % 65000 + 2;
  return `10.244.${n >>> 8}.${n & 255}`;
}

/**
 * Deletes conntrack entries that would blackhole UDP traffic after an endpoint change
 * (kubernetes#48370, #59368): UDP has no connection end, so a client that keeps sending from the
 * same source port keeps hitting the conntrack entry that DNATs it to a removed endpoint. After a
 * successful sync the proxy deletes, inside the node namespace only:
 *
 * - entries whose original destination is a UDP Service port and whose reply source is an
 *   endpoint no longer used by it;
 * - entries toward a UDP Service port that had no endpoints and now has some (packets rejected
 *   before may have left entries behind).
 *
 * Healthy flows are never touched, and nothing is flushed on start or restart (kubernetes#122740).
 */
import type { NetnsExec } from './exec.js';
import type { ServicePort, ServiceState } from './types.js';
import { portKey, usableEndpoints } from './types.js';

/**
 * One deletion: flows to clusterIP:port/udp (any destination address when `clusterIP` is absent: a
 * NodePort), optionally only those DNATed to endpointIP.
 */
export interface StaleFlow { clusterIP?: string; port: number; endpointIP?: string }

/** Where a UDP Service port's flows are addressed: its ClusterIP, its external/LoadBalancer IPs, its NodePort on any node address. */
function frontends(sp: ServicePort): { clusterIP?: string; port: number }[] {
  return [
    { clusterIP: sp.clusterIP, port: sp.port },
    ...(sp.externalIPs ?? []).map((ip) => ({ clusterIP: ip, port: sp.port })),
    ...(sp.nodePort !== undefined ? [{ port: sp.nodePort }] : []),
  ];
}

/** The deletions needed when a Service's state goes from `before` to `after` (pure). */
export function staleUdpFlows(before: ServiceState | undefined, after: ServiceState | undefined): StaleFlow[] {
  const out: StaleFlow[] = [];
  for (const sp of before?.ports ?? []) {
    if (sp.protocol !== 'UDP') continue;
    const pk = portKey(sp.portName, sp.protocol);
    const oldEps = usableEndpoints(before!.endpoints.get(pk) ?? []);
    const nowPort = after?.ports.find((p) => p.portName === sp.portName && p.protocol === 'UDP' && p.clusterIP === sp.clusterIP && p.port === sp.port);
    const newEps = nowPort ? usableEndpoints(after!.endpoints.get(pk) ?? []) : [];
    const keep = new Set(newEps.map((e) => e.ip));
    for (const ip of new Set(oldEps.map((e) => e.ip))) {
      if (!keep.has(ip)) for (const fe of frontends(sp)) out.push({ ...fe, endpointIP: ip });
    }
  }
  for (const sp of after?.ports ?? []) {
    if (sp.protocol !== 'UDP') continue;
    const pk = portKey(sp.portName, sp.protocol);
    if (usableEndpoints(after!.endpoints.get(pk) ?? []).length === 0) continue;
    const was = before?.ports.find((p) => p.portName === sp.portName && p.protocol === 'UDP' && p.clusterIP === sp.clusterIP && p.port === sp.port);
    if (!was || usableEndpoints(before!.endpoints.get(pk) ?? []).length === 0) out.push(...frontends(sp));
  }
  return out;
}

/** conntrack(8) arguments for one deletion. */
export function conntrackArgs(f: StaleFlow): string[] {
  const args = ['conntrack', '-D', '-p', 'udp', ...(f.clusterIP ? ['--orig-dst', f.clusterIP] : []), '--orig-port-dst', String(f.port)];
  if (f.endpointIP) args.push('--reply-src', f.endpointIP);
  return args;
}

/** Runs the deletions; "0 flow entries" (exit 1) is not an error. Returns how many commands failed. */
export async function clearStaleFlows(exec: NetnsExec, flows: readonly StaleFlow[]): Promise<number> {
  let failed = 0;
  for (const f of flows) {
    const r = await exec(conntrackArgs(f));
    if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) failed++;
  }
  return failed;
}

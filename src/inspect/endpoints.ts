/**
 * The endpoints EndpointSlices give one Service port, and the ones the proxy sends new connections
 * to (src/proxy's rule: the ready ones, else the serving-and-terminating ones). Pure.
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ServicePortView } from './types.js';

/** One endpoint address:port of one Service port, from the slices. */
export interface SliceEndpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  pod?: string;
}

/** The endpoints the slices give `sp` (matched by port name and protocol, as kube-proxy does). */
export function sliceEndpoints(slices: readonly EndpointSlice[], sp: ServicePortView): SliceEndpoint[] {
  const out: SliceEndpoint[] = [];
  const seen = new Set<string>();
  for (const s of slices) {
    if (s.addressType !== 'IPv4') continue;
    const port = (s.ports ?? []).find((p) => (p.name ?? '') === sp.name && (p.protocol ?? 'TCP') === sp.protocol);
    if (!port?.port) continue;
    for (const e of s.endpoints ?? []) {
      const ready = e.conditions?.ready !== false;
      for (const ip of e.addresses) {
        const k = `${ip}:${port.port}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({
          ip, port: port.port, ready, serving: e.conditions?.serving ?? ready, terminating: e.conditions?.terminating === true,
          ...(e.targetRef?.kind === 'Pod' && e.targetRef.name ? { pod: e.targetRef.name } : {}),
        });
      }
    }
  }
  return out;
}

/** What the proxy sends new connections to: the ready endpoints, else the serving terminating ones. */
export function usable(eps: readonly SliceEndpoint[]): SliceEndpoint[] {
  const ready = eps.filter((e) => e.ready);
  return ready.length ? ready : eps.filter((e) => e.serving && e.terminating);
}


/**
 * `kubectl get endpoints` (NAME ENDPOINTS AGE) and `kubectl get endpointslices`
 * (NAME ADDRESSTYPE PORTS ENDPOINTS AGE). At most three entries, then "+ N more...".
 */
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ageSince } from './duration.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';

const MAX = 3;

/** net.JoinHostPort: brackets around IPv6 addresses. */
function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** printers.go formatEndpoints: ready addresses × ports, `<none>` without subsets. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    if (!ss.ports?.length) {
      count += addrs.length;
      for (const a of addrs) { if (list.length === MAX) { more = true; break; } list.push(a.ip); }
      continue;
    }
    for (const p of ss.ports) {
      count += addrs.length;
      for (const a of addrs) { if (list.length === MAX) { more = true; break; } list.push(hostPort(a.ip, p.port)); }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - MAX} more...` : ret;
}

function listWithMore(list: string[], more: boolean, count: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - MAX} more...`;
  return ret === '' ? '<unset>' : ret;
}

/** printers.go formatDiscoveryPorts: port numbers (or names, or `*`), `<unset>` when none. */
export function formatSlicePorts(slice: EndpointSlice): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const p of slice.ports ?? []) {
    if (list.length < MAX) list.push(p.port != null ? String(p.port) : p.name != null ? p.name : '*');
    else more = true;
    count++;
  }
  return listWithMore(list, more, count);
}

/** printers.go formatDiscoveryEndpoints: addresses of every endpoint (ready or not), `<unset>` when none. */
export function formatSliceEndpoints(slice: EndpointSlice): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const e of slice.endpoints ?? []) {
    for (const a of e.addresses ?? []) {
      if (list.length < MAX) list.push(a);
      else more = true;
      count++;
    }
  }
  return listWithMore(list, more, count);
}

/** Printer for core/v1 Endpoints. */
export const endpointsPrinter: Printer<Endpoints> = {
  columns: [NAME_COLUMN, col('Endpoints', 'string', doc('io.k8s.api.core.v1.Endpoints', 'subsets')), AGE_COLUMN],
  row: (ep, now) => ({ cells: [ep.metadata?.name ?? '', formatEndpoints(ep), ageSince(ep.metadata?.creationTimestamp, now)] }),
};

const SLICE = 'io.k8s.api.discovery.v1.EndpointSlice';

/** Printer for discovery.k8s.io/v1 EndpointSlice. */
export const endpointSlicePrinter: Printer<EndpointSlice> = {
  columns: [
    NAME_COLUMN,
    col('AddressType', 'string', doc(SLICE, 'addressType')),
    col('Ports', 'string', doc(SLICE, 'ports')),
    col('Endpoints', 'string', doc(SLICE, 'endpoints')),
    AGE_COLUMN,
  ],
  row: (s, now) => ({
    cells: [s.metadata?.name ?? '', s.addressType ?? '', formatSlicePorts(s), formatSliceEndpoints(s), ageSince(s.metadata?.creationTimestamp, now)],
  }),
};

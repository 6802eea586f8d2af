/**
 * The one place that names what the kernel sees. Names must be unique per Service port / endpoint,
 * stable across restarts (so a restarted proxy finds and reuses them), and fit the kernel's limits:
 * nftables object names are at most 255 bytes of [A-Za-z0-9_./-]; iptables chain names at most
 * 28 characters. As kube-proxy does, a short hash of the full identity makes names unique and the
 * readable tail (namespace/name/protocol/port) makes them debuggable.
 */
import { createHash } from 'node:crypto';
import type { Endpoint, ServicePort } from './types.js';

/** nftables name limit (NFT_NAME_MAXLEN - 1). */
export const NFT_NAME_MAX = 255;
/** iptables chain name limit (XT_EXTENSION_MAXNAMELEN - 1). */
export const IPT_CHAIN_MAX = 28;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Base32 (RFC 4648 alphabet, no padding) of the SHA-256 of `s`, first `len` characters. */
export function hashName(s: string, len: number): string {
  const h = createHash('sha256').update(s).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of h) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < len) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= len) break;
  }
  return out;
}

/** Readable tail: `ns/name/tcp/portName` (kube-proxy's servicePortChainNameBase). */
function svcBase(sp: ServicePort): string {
  return `${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.portName}`;
}

function clip(name: string): string {
  // Every input character is already allowed (DNS labels, digits, '.', '/', '_', '-'); only length.
  return name.length <= NFT_NAME_MAX ? name : name.slice(0, NFT_NAME_MAX);
}

/** nftables chain of one Service port: `service-<hash8>-ns/name/tcp/port`. */
export function nftServiceChain(sp: ServicePort): string {
  const base = svcBase(sp);
  return clip(`service-${hashName(base, 8)}-${base}`);
}

/** nftables chain that external traffic to one Service port enters (traffic policy, masquerade): `external-<hash8>-…`. */
export function nftExternalChain(sp: ServicePort): string {
  const base = svcBase(sp);
  return clip(`external-${hashName(base, 8)}-${base}`);
}

/** nftables chain that picks among this node's endpoints of one Service port (Local policies): `local-<hash8>-…`. */
export function nftLocalChain(sp: ServicePort): string {
  const base = svcBase(sp);
  return clip(`local-${hashName(base, 8)}-${base}`);
}

/** nftables chain of one endpoint of one Service port: `endpoint-<hash8>-ns/name/tcp/port__ip/port`. */
export function nftEndpointChain(sp: ServicePort, ep: Pick<Endpoint, 'ip' | 'port'>): string {
  const base = `${svcBase(sp)}__${ep.ip}/${ep.port}`;
  return clip(`endpoint-${hashName(base, 8)}-${base}`);
}

/** nftables ClientIP-affinity set of one endpoint: `affinity-<hash8>-ns/name/tcp/port__ip/port`. */
export function nftAffinitySet(sp: ServicePort, ep: Pick<Endpoint, 'ip' | 'port'>): string {
  const base = `${svcBase(sp)}__${ep.ip}/${ep.port}`;
  return clip(`affinity-${hashName(base, 8)}-${base}`);
}

/** iptables chain of one Service port: `KUBE-SVC-<16 base32>` (as kube-proxy). */
export function iptServiceChain(sp: ServicePort): string {
  return `KUBE-SVC-${hashName(svcBase(sp), 16)}`;
}

/** iptables chain that external traffic to one Service port enters: `KUBE-EXT-<16 base32>` (as kube-proxy). */
export function iptExternalChain(sp: ServicePort): string {
  return `KUBE-EXT-${hashName(svcBase(sp), 16)}`;
}

/** iptables chain of the Local policies' endpoints of one Service port: `KUBE-SVL-<16 base32>` (as kube-proxy). */
export function iptLocalChain(sp: ServicePort): string {
  return `KUBE-SVL-${hashName(svcBase(sp), 16)}`;
}

/** iptables firewall chain (loadBalancerSourceRanges) of one Service port: `KUBE-FW-<16 base32>` (as kube-proxy). */
export function iptFirewallChain(sp: ServicePort): string {
  return `KUBE-FW-${hashName(svcBase(sp), 16)}`;
}

/** iptables chain of one endpoint: `KUBE-SEP-<16 base32>`; also the `recent` list name for affinity. */
export function iptEndpointChain(sp: ServicePort, ep: Pick<Endpoint, 'ip' | 'port'>): string {
  return `KUBE-SEP-${hashName(`${svcBase(sp)}__${ep.ip}/${ep.port}`, 16)}`;
}

/**
 * networking.k8s.io/v1 NetworkPolicy: defaults (pkg/apis/networking/v1/defaults.go) and validation
 * with Kubernetes' wording and field paths (pkg/apis/networking/validation/validation.go).
 */
import type { IPBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import { isIP } from 'node:net';
import type { FieldError } from '../../api/errors.js';
import { eachInvalid, forbidden, invalidField, notSupported, path, required, type FieldPath } from './field.js';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isValidPortName, isValidPortNum, nameIsDNSSubdomain } from './namevalidation.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * SetDefaults_NetworkPolicy / SetDefaults_NetworkPolicyPort: a port without a protocol is TCP; a
 * policy without policyTypes is `[Ingress]`, plus `Egress` when it has egress rules.
 */
export function defaultNetworkPolicy(np: NetworkPolicy): void {
  const spec = ((np as Mutable<NetworkPolicy>).spec ??= {} as NetworkPolicySpec) as Mutable<NetworkPolicySpec>;
  for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
    for (const p of rule.ports ?? []) if (!p.protocol) (p as Mutable<NetworkPolicyPort>).protocol = 'TCP';
  }
  if (!spec.policyTypes || spec.policyTypes.length === 0) {
    spec.policyTypes = (spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  // podSelector is a required struct in Go: an omitted one decodes as {} (select every Pod).
  spec.podSelector ??= {};
}

/** A CIDR as netutils.ParseCIDRSloppy reads it (leading zeros allowed): address bits and prefix, or undefined. */
export function parseCIDRSloppy(s: string): { family: 4 | 6; prefix: number; v4?: number } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (m) {
    const o = m.slice(1).map(Number);
    if (o.some((x) => x > 255) || prefix > 32) return undefined;
    return { family: 4, prefix, v4: ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0 };
  }
  if (isIP(addr) === 6 && prefix <= 128) return { family: 6, prefix };
  return undefined;
}

const CIDR_MSG = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

function maskV4(addr: number, prefix: number): number {
  return prefix === 0 ? 0 : (addr & (~0 << (32 - prefix))) >>> 0;
}

/** ValidateIPBlock. */
function validateIPBlock(ipb: IPBlock, p: FieldPath): FieldError[] {
  if (!ipb.cidr) return [required(p.child('cidr'), '')];
  const cidr = parseCIDRSloppy(ipb.cidr);
  if (!cidr) return [invalidField(p.child('cidr'), ipb.cidr, CIDR_MSG)];
  const errs: FieldError[] = [];
  for (const [i, ex] of (ipb.except ?? []).entries()) {
    const ep = p.child('except').index(i);
    const e = parseCIDRSloppy(ex);
    if (!e) return [...errs, invalidField(ep, ex, CIDR_MSG)];
    // cidrIPNet.Contains(exceptCIDR.IP) && cidr's mask strictly shorter than the except's.
    const contains = e.family === cidr.family && (cidr.family === 6 || maskV4(e.v4!, cidr.prefix) === maskV4(cidr.v4!, cidr.prefix));
    if (!contains || cidr.prefix >= e.prefix) errs.push(invalidField(ep, ex, 'must be a strict subset of `cidr`'));
  }
  return errs;
}

/** ValidateNetworkPolicyPort. */
function validatePort(port: NetworkPolicyPort, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) {
    errs.push(notSupported(p.child('protocol'), port.protocol, ['TCP', 'UDP', 'SCTP']));
  }
  if (port.port !== undefined) {
    if (typeof port.port === 'number') {
      errs.push(...eachInvalid(p.child('port'), port.port, isValidPortNum(port.port)));
      if (port.endPort !== undefined) {
        if (port.endPort < port.port) errs.push(invalidField(p.child('endPort'), port.port, 'must be greater than or equal to `port`'));
        errs.push(...eachInvalid(p.child('endPort'), port.endPort, isValidPortNum(port.endPort)));
      }
    } else {
      if (port.endPort !== undefined) errs.push(invalidField(p.child('endPort'), port.endPort, 'may not be specified when `port` is non-numeric'));
      errs.push(...eachInvalid(p.child('port'), port.port, isValidPortName(port.port)));
    }
  } else if (port.endPort !== undefined) {
    errs.push(invalidField(p.child('endPort'), port.endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

/** ValidateNetworkPolicyPeer. */
function validatePeer(peer: NetworkPolicyPeer, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  if (peer.podSelector) { n++; errs.push(...validateLabelSelector(peer.podSelector, p.child('podSelector'))); }
  if (peer.namespaceSelector) { n++; errs.push(...validateLabelSelector(peer.namespaceSelector, p.child('namespaceSelector'))); }
  if (peer.ipBlock) { n++; errs.push(...validateIPBlock(peer.ipBlock, p.child('ipBlock'))); }
  if (n === 0) errs.push(required(p, 'must specify a peer'));
  else if (n > 1 && peer.ipBlock) errs.push(forbidden(p, 'may not specify both ipBlock and another peer'));
  return errs;
}

/** ValidateNetworkPolicy (create) / ValidateNetworkPolicyUpdate (`old` set). */
export function validateNetworkPolicy(np: NetworkPolicy, old?: NetworkPolicy): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(np.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(np.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const spec: Partial<NetworkPolicySpec> = np.spec ?? {};
  const sp = path('spec');
  errs.push(...validateLabelSelector(spec.podSelector, sp.child('podSelector')));
  (spec.ingress ?? []).forEach((rule, i) => {
    const rp = sp.child('ingress').index(i);
    (rule.ports ?? []).forEach((port, j) => errs.push(...validatePort(port, rp.child('ports').index(j))));
    (rule.from ?? []).forEach((peer, j) => errs.push(...validatePeer(peer, rp.child('from').index(j))));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    const rp = sp.child('egress').index(i);
    (rule.ports ?? []).forEach((port, j) => errs.push(...validatePort(port, rp.child('ports').index(j))));
    (rule.to ?? []).forEach((peer, j) => errs.push(...validatePeer(peer, rp.child('to').index(j))));
  });
  const types = spec.policyTypes ?? [];
  if (types.length > 2) errs.push(invalidField(sp.child('policyTypes'), types, 'may not specify more than two policyTypes'));
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(sp.child('policyTypes').index(i), t, ['Ingress', 'Egress']));
  });
  return errs;
}

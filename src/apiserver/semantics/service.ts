/**
 * Service validation (pkg/apis/core/validation: ValidateService, ValidateServiceUpdate and the
 * clusterIPs / ipFamilies rules), with Kubernetes' field paths and wording.
 */
import type { FieldError } from '../../api/errors.js';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { type FieldPath, duplicate, eachInvalid, forbidden, invalidField, notSupported, path, required } from './field.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isIPv6, isQualifiedName, isValidIP, isValidPortName, isValidPortNum, nameIsDNS1035Label, parseIPv4 } from './namevalidation.js';

/** Largest ClientIP affinity timeout (one day). */
export const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'];
export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];

function isHeadless(svc: Service): boolean {
  const ips = svc.spec?.clusterIPs ?? [];
  return ips.length === 1 && ips[0] === 'None';
}

/** Validates a port number-or-name (targetPort, probe ports). */
export function validatePortNumOrName(port: number | string | undefined, p: FieldPath): FieldError[] {
  if (typeof port === 'number') return eachInvalid(p, port, isValidPortNum(port));
  if (typeof port === 'string') return eachInvalid(p, port, isValidPortName(port));
  return eachInvalid(p, 0, isValidPortNum(0));
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) errs.push(required(p.child('name')));
  else if (sp.name) {
    errs.push(...eachInvalid(p.child('name'), sp.name, isDNS1123Label(sp.name)));
    if (names.has(sp.name)) errs.push(duplicate(p.child('name'), sp.name));
    else names.add(sp.name);
  }
  errs.push(...eachInvalid(p.child('port'), sp.port ?? 0, isValidPortNum(sp.port ?? 0)));
  if (!sp.protocol) errs.push(required(p.child('protocol')));
  else if (!PORT_PROTOCOLS.includes(sp.protocol)) errs.push(notSupported(p.child('protocol'), sp.protocol, PORT_PROTOCOLS));
  errs.push(...validatePortNumOrName(sp.targetPort, p.child('targetPort')));
  if (sp.appProtocol !== undefined) errs.push(...eachInvalid(p.child('appProtocol'), sp.appProtocol, isQualifiedName(sp.appProtocol)));
  return errs;
}

/** The duplicate-port key, rendered as Kubernetes renders a core.ServicePort (json.Marshal, Go field order). */
function portKey(sp: ServicePort): Record<string, unknown> {
  return { Name: '', Protocol: sp.protocol ?? '', AppProtocol: null, Port: sp.port ?? 0, TargetPort: 0, NodePort: 0 };
}

function validateClusterIPsRelated(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ipsPath = path('spec', 'clusterIPs');
  const ips = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(required(ipsPath));
    else if (ips[0] !== spec.clusterIP) errs.push(invalidField(ipsPath, ips, 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(invalidField(ipsPath, ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!IP_FAMILIES.includes(f)) errs.push(notSupported(path('spec', 'ipFamilies').index(i), f, IP_FAMILIES));
    if (seen.has(f)) errs.push(duplicate(path('spec', 'ipFamilies').index(i), f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported(path('spec', 'ipFamilyPolicy'), spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) { badIPs = true; errs.push(invalidField(ipsPath, ips, "'None' must be the first and only value")); }
      return;
    }
    const e = eachInvalid(ipsPath.index(i), ip, isValidIP(ip));
    if (e.length > 0) { badIPs = true; errs.push(...e); }
  });
  if (ips.length > 2) errs.push(invalidField(ipsPath, ips, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (ips.length > 1 && (isIPv6(ips[0]) === isIPv6(ips[1]))) {
    errs.push(invalidField(ipsPath, ips, 'may specify no more than one IP for each IP family'));
  }
  const fams = spec.ipFamilies ?? [];
  if (!isHeadless(svc) && ips.length > 0 && fams.length > 0) {
    ips.forEach((ip, i) => {
      if (i > fams.length - 1) return;
      if (fams[i] === 'IPv4' && isIPv6(ip)) errs.push(invalidField(ipsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fams[i] === 'IPv6' && !isIPv6(ip)) errs.push(invalidField(ipsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

/** ValidateService: a Service as created (or as it will be stored after an update). */
export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label, path('metadata'));
  const spec = svc.spec ?? {};
  const specPath = path('spec');
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !isHeadless(svc) && spec.type !== 'ExternalName') errs.push(required(specPath.child('ports')));
  switch (spec.type) {
    case 'LoadBalancer':
      if (isHeadless(svc)) errs.push(invalidField(specPath.child('clusterIPs').index(0), 'None', "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (isHeadless(svc)) errs.push(invalidField(specPath.child('clusterIPs').index(0), 'None', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if ((spec.clusterIPs ?? []).length > 0) errs.push(forbidden(specPath.child('clusterIPs'), 'may not be set for ExternalName services'));
      if ((spec.ipFamilies ?? []).length > 0) errs.push(forbidden(specPath.child('ipFamilies'), 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined) errs.push(forbidden(specPath.child('ipFamilyPolicy'), 'may not be set for ExternalName services'));
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname) errs.push(...eachInvalid(specPath.child('externalName'), cname, isDNS1123Subdomain(cname)));
      else errs.push(required(specPath.child('externalName')));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((sp, i) => errs.push(...validateServicePort(sp, ports.length > 1, names, specPath.child('ports').index(i))));
  if (spec.selector) errs.push(...validateLabels(spec.selector, specPath.child('selector')));

  if (!spec.sessionAffinity) errs.push(required(specPath.child('sessionAffinity')));
  else if (!AFFINITIES.includes(spec.sessionAffinity)) errs.push(notSupported(specPath.child('sessionAffinity'), spec.sessionAffinity, AFFINITIES));
  const cfgPath = specPath.child('sessionAffinityConfig');
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    const why = 'when session affinity type is ClientIP';
    if (!cfg) errs.push(required(cfgPath, why));
    else if (!cfg.clientIP) errs.push(required(cfgPath.child('clientIP'), why));
    else if (cfg.clientIP.timeoutSeconds === undefined || cfg.clientIP.timeoutSeconds === null) errs.push(required(cfgPath.child('clientIP', 'timeoutSeconds'), why));
    else {
      const t = cfg.clientIP.timeoutSeconds;
      if (t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS) {
        errs.push(invalidField(cfgPath.child('clientIP', 'timeoutSeconds'), t, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
      }
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(forbidden(cfgPath, 'must not be set when session affinity is None'));
  }

  errs.push(...validateClusterIPsRelated(svc));
  (spec.externalIPs ?? []).forEach((ip, i) => errs.push(...eachInvalid(specPath.child('externalIPs').index(i), ip, isValidIP(ip))));

  if (!spec.type) errs.push(required(specPath.child('type')));
  else if (!SERVICE_TYPES.includes(spec.type)) errs.push(notSupported(specPath.child('type'), spec.type, SERVICE_TYPES));
  if (spec.type === 'ClusterIP') {
    ports.forEach((sp, i) => {
      if (sp.nodePort) errs.push(forbidden(specPath.child('ports').index(i).child('nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const seenPorts = new Set<string>();
  ports.forEach((sp, i) => {
    const k = `${sp.protocol}/${sp.port}`;
    if (seenPorts.has(k)) errs.push(duplicate(specPath.child('ports').index(i), portKey(sp)));
    seenPorts.add(k);
  });
  const itp = spec.internalTrafficPolicy;
  if (itp === undefined && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type ?? '')) errs.push(required(specPath.child('internalTrafficPolicy')));
  if (itp !== undefined && !['Cluster', 'Local'].includes(itp)) errs.push(notSupported(specPath.child('internalTrafficPolicy'), itp, ['Cluster', 'Local']));
  const externallyAccessible = spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);
  if (!externallyAccessible && spec.externalTrafficPolicy) {
    errs.push(invalidField(specPath.child('externalTrafficPolicy'), spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (externallyAccessible && spec.externalTrafficPolicy !== undefined && !['Cluster', 'Local'].includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported(specPath.child('externalTrafficPolicy'), spec.externalTrafficPolicy, ['Cluster', 'Local']));
  }
  errs.push(...validateExternalFields(svc));
  return errs;
}

/** The annotation older clients use instead of spec.loadBalancerSourceRanges. */
export const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

/** An IPv4 CIDR `a.b.c.d/n` (surrounding spaces allowed, as Kubernetes' GetLoadBalancerSourceRanges trims). */
function isCidr(s: string): boolean {
  const m = /^\s*(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})\s*$/.exec(s);
  return !!m && parseIPv4(m[1]!) !== undefined && Number(m[2]) <= 32;
}

/**
 * NodePort, LoadBalancer and traffic-policy fields (ValidateService's nodePort duplicates,
 * LoadBalancerSourceRanges, allocateLoadBalancerNodePorts, loadBalancerClass, healthCheckNodePort
 * and trafficDistribution rules).
 */
function validateExternalFields(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const specPath = path('spec');
  const isLB = spec.type === 'LoadBalancer';
  // (protocol, nodePort) pairs are unique; TCP and UDP may share a NodePort.
  const seen = new Set<string>();
  (spec.ports ?? []).forEach((sp, i) => {
    if (!sp.nodePort) return;
    const k = `${sp.protocol}/${sp.nodePort}`;
    if (seen.has(k)) errs.push(duplicate(specPath.child('ports').index(i).child('nodePort'), sp.nodePort));
    seen.add(k);
  });
  const annotation = svc.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION];
  const ranges = spec.loadBalancerSourceRanges ?? [];
  if (ranges.length > 0 || annotation !== undefined) {
    const p = ranges.length > 0 ? specPath.child('LoadBalancerSourceRanges') : path('metadata', 'annotations').key(SOURCE_RANGES_ANNOTATION);
    const values = ranges.length > 0 ? ranges : (annotation ?? '').split(',');
    if (!isLB) errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    if (!values.every(isCidr)) {
      errs.push(invalidField(p, ranges.length > 0 ? `[${ranges.join(' ')}]` : annotation, 'must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 '));
    }
  }
  if (!isLB && spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null) {
    errs.push(forbidden(specPath.child('allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (isLB && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    errs.push(required(specPath.child('allocateLoadBalancerNodePorts')));
  }
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    if (!isLB) errs.push(forbidden(specPath.child('loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"));
    else errs.push(...eachInvalid(specPath.child('loadBalancerClass'), spec.loadBalancerClass, isQualifiedName(spec.loadBalancerClass)));
  }
  const needsHealthCheck = isLB && spec.externalTrafficPolicy === 'Local';
  // Required-ness is not checked: the allocator fills it in (after validation here).
  if (!needsHealthCheck && spec.healthCheckNodePort) {
    errs.push(invalidField(specPath.child('healthCheckNodePort'), spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  }
  const td = spec.trafficDistribution;
  if (td !== undefined && td !== null && !['PreferClose', 'PreferSameZone', 'PreferSameNode'].includes(td)) {
    errs.push(notSupported(specPath.child('trafficDistribution'), td, ['PreferClose', 'PreferSameNode', 'PreferSameZone']));
  }
  return errs;
}

function validateUpgradeDowngradeClusterIPs(old: Service, svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  if (svc.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return errs;
  if (isHeadless(old) && isHeadless(svc)) return errs;
  const oldIPs = old.spec?.clusterIPs ?? [];
  const ips = svc.spec?.clusterIPs ?? [];
  // An update that omits clusterIP(s) keeps the allocated ones: Kubernetes copies them over in
  // PrepareForUpdate (patchAllocatedValues) before validating; here the allocator does it.
  if (!svc.spec?.clusterIP && ips.length === 0 && oldIPs.length > 0) return errs;
  const p0 = path('spec', 'clusterIPs').index(0);
  if (oldIPs.length === ips.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== ips[i]) errs.push(invalidField(path('spec', 'clusterIPs').index(i), ips, 'may not change once set'));
    });
  } else if (oldIPs.length > ips.length) {
    if (ips.length === 0) errs.push(invalidField(p0, ips, 'primary clusterIP can not be unset'));
    if (oldIPs.length > 0 && ips.length > 0 && ips[0] !== oldIPs[0]) errs.push(invalidField(p0, ips, 'may not change once set'));
    if (ips.length === 1 && svc.spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalidField(p0, ips, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
    errs.push(invalidField(p0, ips, 'may not change once set'));
  }
  return errs;
}

function validateUpgradeDowngradeIPFamilies(old: Service, svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  if (svc.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return errs;
  if (isHeadless(old) && isHeadless(svc)) return errs;
  const oldF = old.spec?.ipFamilies ?? [];
  const f = svc.spec?.ipFamilies ?? [];
  const p0 = path('spec', 'ipFamilies').index(0);
  if (oldF.length === f.length) {
    oldF.forEach((x, i) => {
      if (x !== f[i]) errs.push(invalidField(path('spec', 'ipFamilies').index(i), f, 'may not change once set'));
    });
  } else if (oldF.length > f.length) {
    if (f.length === 0) errs.push(invalidField(p0, f, 'primary ipFamily can not be unset'));
    if (oldF.length > 0 && f.length > 0 && f[0] !== oldF[0]) errs.push(invalidField(p0, f, 'may not change once set'));
    if (f.length === 1 && svc.spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalidField(p0, f, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (oldF.length > 0 && f[0] !== oldF[0]) {
    errs.push(invalidField(p0, f, 'may not change once set'));
  }
  return errs;
}

/** ValidateServiceUpdate: immutability of clusterIPs / ipFamilies plus everything ValidateService checks. */
export function validateServiceUpdate(input: Service, old: Service): FieldError[] {
  // NormalizeClusterIPs (PrepareForUpdate): a changed clusterIP with untouched clusterIPs means the
  // client (an old one, or an apply of `clusterIP` only) wants clusterIPs = [clusterIP].
  let svc = input;
  const sameIPs = JSON.stringify(input.spec?.clusterIPs ?? []) === JSON.stringify(old.spec?.clusterIPs ?? []);
  if (input.spec?.clusterIP && input.spec.clusterIP !== old.spec?.clusterIP && sameIPs) {
    svc = { ...input, spec: { ...input.spec, clusterIPs: [input.spec.clusterIP] } };
  }
  const classErrs: FieldError[] = [];
  if (old.spec?.type === 'LoadBalancer' && svc.spec?.type === 'LoadBalancer' && (old.spec.loadBalancerClass ?? null) !== (svc.spec.loadBalancerClass ?? null)) {
    classErrs.push(invalidField(path('spec', 'loadBalancerClass'), svc.spec.loadBalancerClass ?? null, 'may not change once set'));
  }
  return [
    ...classErrs,
    ...validateObjectMetaUpdate(svc.metadata, old.metadata, path('metadata')),
    ...validateUpgradeDowngradeClusterIPs(old, svc),
    ...validateUpgradeDowngradeIPFamilies(old, svc),
    ...validateService(svc),
  ];
}

/** True for an IPv4 literal (exported for defaulting, which infers ipFamilies from clusterIPs). */
export function isIPv4(s: string): boolean {
  return parseIPv4(s) !== undefined;
}

/**
 * EndpointSlice (discovery.k8s.io/v1) and Endpoints (core/v1) validation, after
 * pkg/apis/discovery/validation and ValidateEndpoints in pkg/apis/core/validation.
 */
import type { FieldError } from '../../api/errors.js';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { type FieldPath, duplicate, eachInvalid, invalidField, notSupported, path, required, tooMany } from './field.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isIPv6, isQualifiedName, isValidIP, isValidPortNum, nameIsDNSSubdomain, parseIPv4 } from './namevalidation.js';
import { PORT_PROTOCOLS } from './service.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

/** Rejects addresses that can never be endpoints (ValidateEndpointIP). */
function validateEndpointIP(ip: string, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const v4 = parseIPv4(ip);
  if (!v4 && !isIPv6(ip)) return [invalidField(p, ip, 'must be a valid IP address')];
  const lower = ip.toLowerCase();
  if ((v4 && v4.every((x) => x === 0)) || /^(0*:)*:?0*$/.test(lower)) errs.push(invalidField(p, ip, `may not be unspecified (${ip})`));
  if ((v4 && v4[0] === 127) || lower === '::1') errs.push(invalidField(p, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if ((v4 && v4[0] === 169 && v4[1] === 254) || /^fe[89ab]/.test(lower)) errs.push(invalidField(p, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if ((v4 && v4[0] === 224 && v4[1] === 0 && v4[2] === 0) || lower.startsWith('ff02:')) errs.push(invalidField(p, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** ValidateEndpointSlice (+ addressType immutability on update). */
export function validateEndpointSlice(es: EndpointSlice, old?: EndpointSlice): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(es.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(es.metadata, true, nameIsDNSSubdomain, path('metadata')));
  const at = es.addressType;
  if (!at) errs.push(required(path('addressType')));
  else if (!ADDRESS_TYPES.includes(at)) errs.push(notSupported(path('addressType'), at, ADDRESS_TYPES));
  const eps = es.endpoints ?? [];
  const ep = path('endpoints');
  if (eps.length > 1000) errs.push(tooMany(ep, eps.length, 1000));
  else eps.forEach((e, i) => {
    const ip = ep.index(i);
    const ap = ip.child('addresses');
    const addrs = e.addresses ?? [];
    if (addrs.length === 0) errs.push(required(ap, 'must contain at least 1 address'));
    else if (addrs.length > 100) errs.push(tooMany(ap, addrs.length, 100));
    addrs.forEach((a, j) => {
      const aj = ap.index(j);
      if (at === 'IPv4') {
        if (!parseIPv4(a)) errs.push(invalidField(aj, a, 'must be a valid IPv4 address'));
        else errs.push(...validateEndpointIP(a, aj));
      } else if (at === 'IPv6') {
        if (!isIPv6(a)) errs.push(invalidField(aj, a, 'must be a valid IPv6 address'));
        else errs.push(...validateEndpointIP(a, aj));
      } else if (at === 'FQDN') {
        errs.push(...eachInvalid(aj, a, isDNS1123Subdomain(a.replace(/\.$/, ''))));
      }
    });
    if (e.nodeName !== undefined) errs.push(...eachInvalid(ip.child('nodeName'), e.nodeName, isDNS1123Subdomain(e.nodeName)));
    errs.push(...validateLabels(e.deprecatedTopology, ip.child('deprecatedTopology')));
    if (e.zone !== undefined) errs.push(...eachInvalid(ip.child('zone'), e.zone, isDNS1123Label(e.zone)));
    if (e.hostname !== undefined) errs.push(...eachInvalid(ip.child('hostname'), e.hostname, isDNS1123Label(e.hostname)));
  });
  const ports = es.ports ?? [];
  const pp = path('ports');
  if (ports.length > 20000) errs.push(tooMany(pp, ports.length, 20000));
  else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const ip = pp.index(i);
      const name = port.name ?? '';
      if (name) errs.push(...eachInvalid(ip.child('name'), name, isDNS1123Label(name)));
      if (names.has(name)) errs.push(duplicate(ip.child('name'), name));
      else names.add(name);
      if (!port.protocol) errs.push(required(ip.child('protocol')));
      else if (!PORT_PROTOCOLS.includes(port.protocol)) errs.push(notSupported(ip.child('protocol'), port.protocol, PORT_PROTOCOLS));
      if (port.appProtocol !== undefined) errs.push(...eachInvalid(ip.child('appProtocol'), port.appProtocol, isQualifiedName(port.appProtocol)));
    });
  }
  if (old && old.addressType !== es.addressType) errs.push(invalidField(path('addressType'), es.addressType ?? '', 'field is immutable'));
  return errs;
}

/** ValidateEndpoints (the legacy core/v1 object). */
export function validateEndpoints(ep: Endpoints, old?: Endpoints): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ep.metadata, old.metadata, path('metadata')) : [];
  errs.push(...validateObjectMeta(ep.metadata, true, nameIsDNSSubdomain, path('metadata')));
  (ep.subsets ?? []).forEach((ss, i) => {
    const sp = path('subsets').index(i);
    if ((ss.addresses ?? []).length === 0 && (ss.notReadyAddresses ?? []).length === 0) {
      errs.push(required(sp, 'must specify `addresses` or `notReadyAddresses`'));
    }
    for (const [list, name] of [[ss.addresses, 'addresses'], [ss.notReadyAddresses, 'notReadyAddresses']] as const) {
      (list ?? []).forEach((a, j) => {
        const ap = sp.child(name).index(j);
        const ipErrs = eachInvalid(ap.child('ip'), a.ip, isValidIP(a.ip ?? ''));
        errs.push(...ipErrs);
        if (a.hostname) errs.push(...eachInvalid(ap.child('hostname'), a.hostname, isDNS1123Label(a.hostname)));
        if (a.nodeName) errs.push(...eachInvalid(ap.child('nodeName'), a.nodeName, isDNS1123Subdomain(a.nodeName)));
        if (ipErrs.length === 0) errs.push(...validateEndpointIP(a.ip, ap.child('ip')));
      });
    }
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      const pp = sp.child('ports').index(j);
      if (ports.length > 1 && !port.name) errs.push(required(pp.child('name')));
      else if (port.name) errs.push(...eachInvalid(pp.child('name'), port.name, isDNS1123Label(port.name)));
      errs.push(...eachInvalid(pp.child('port'), port.port ?? 0, isValidPortNum(port.port ?? 0)));
      if (!port.protocol) errs.push(required(pp.child('protocol')));
      else if (!PORT_PROTOCOLS.includes(port.protocol)) errs.push(notSupported(pp.child('protocol'), port.protocol, PORT_PROTOCOLS));
      if (port.appProtocol !== undefined) errs.push(...eachInvalid(pp.child('appProtocol'), port.appProtocol, isQualifiedName(port.appProtocol)));
    });
  });
  return errs;
}

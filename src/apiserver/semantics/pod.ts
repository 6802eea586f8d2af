/**
 * Pod and PodSpec validation (pkg/apis/core/validation: ValidatePodCreate, ValidatePodSpec,
 * validateContainers, probes, ValidatePodUpdate) — the parts a single-machine cluster exercises,
 * with Kubernetes' wording and paths. Volume sources, env sources and subPaths: podsources.ts.
 */
import type { FieldError } from '../../api/errors.js';
import type { Container, Pod, PodSpec, PodTemplateSpec, Probe } from 'kubernetes-types/core/v1.js';
import { type FieldPath, duplicate, eachInvalid, forbidden, invalidField, nonNegative, notFoundField, notSupported, path, required } from './field.js';
import { validateAnnotations, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { inclusiveRangeError, isDNS1123Label, isDNS1123Subdomain, isHTTPHeaderName, isRelaxedEnvVarName, isValidIP, isValidPortName, isValidPortNum, nameIsDNSSubdomain } from './namevalidation.js';
import { validateEnvFrom, validateEnvVarValueFrom, validateSubPaths, validateVolumeSource } from './podsources.js';
import { PORT_PROTOCOLS, validatePortNumOrName } from './service.js';

const MAX_INT32 = 2147483647;

function validateVolumes(spec: PodSpec, p: FieldPath): { names: Set<string>; errs: FieldError[] } {
  const names = new Set<string>();
  const errs: FieldError[] = [];
  (spec.volumes ?? []).forEach((v, i) => {
    const vp = p.index(i);
    const sources = Object.keys(v).filter((k) => k !== 'name' && (v as unknown as Record<string, unknown>)[k] != null);
    if (sources.length === 0) errs.push(required(vp, 'must specify a volume type'));
    else if (sources.length > 1) errs.push(forbidden(vp.child(sources[1]), 'may not specify more than 1 volume type'));
    errs.push(...validateVolumeSource(v, vp));
    if (!v.name) errs.push(required(vp.child('name')));
    else errs.push(...eachInvalid(vp.child('name'), v.name, isDNS1123Label(v.name)));
    if (v.name && names.has(v.name)) errs.push(duplicate(vp.child('name'), v.name));
    else if (v.name) names.add(v.name);
  });
  return { names, errs };
}

function validateHandler(h: Record<string, unknown>, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const) {
    const v = h[kind] as Record<string, unknown> | undefined;
    if (!v) continue;
    if (n > 0) { errs.push(forbidden(p.child(kind), 'may not specify more than 1 handler type')); continue; }
    n++;
    const kp = p.child(kind);
    if (kind === 'exec' && !((v.command as unknown[] | undefined)?.length)) errs.push(required(kp.child('command')));
    if (kind === 'httpGet') {
      if (!v.path) errs.push(required(kp.child('path')));
      errs.push(...validatePortNumOrName(v.port as number | string, kp.child('port')));
      if (!['HTTP', 'HTTPS'].includes(String(v.scheme ?? ''))) errs.push(notSupported(kp.child('scheme'), v.scheme ?? '', ['HTTP', 'HTTPS']));
      for (const hd of (v.httpHeaders as { name: string }[] | undefined) ?? []) errs.push(...eachInvalid(kp.child('httpHeaders'), hd.name, isHTTPHeaderName(hd.name ?? '')));
    }
    if (kind === 'tcpSocket') errs.push(...validatePortNumOrName(v.port as number | string, kp.child('port')));
    if (kind === 'grpc') errs.push(...validatePortNumOrName(Number(v.port ?? 0), kp.child('port')));
  }
  if (n === 0) errs.push(required(p, 'must specify a handler type'));
  return errs;
}

function validateProbe(probe: Probe | undefined, p: FieldPath, kind: 'liveness' | 'readiness' | 'startup'): FieldError[] {
  if (!probe) return [];
  const errs = validateHandler(probe as unknown as Record<string, unknown>, p);
  errs.push(...nonNegative(probe.initialDelaySeconds, p.child('initialDelaySeconds')));
  errs.push(...nonNegative(probe.timeoutSeconds, p.child('timeoutSeconds')));
  errs.push(...nonNegative(probe.periodSeconds, p.child('periodSeconds')));
  errs.push(...nonNegative(probe.successThreshold, p.child('successThreshold')));
  errs.push(...nonNegative(probe.failureThreshold, p.child('failureThreshold')));
  if (probe.terminationGracePeriodSeconds !== undefined && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(invalidField(p.child('terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind !== 'readiness' && probe.successThreshold !== 1) errs.push(invalidField(p.child('successThreshold'), probe.successThreshold ?? 0, 'must be 1'));
  if (kind === 'readiness' && probe.terminationGracePeriodSeconds !== undefined) {
    errs.push(invalidField(p.child('terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  }
  return errs;
}

function validateContainerCommon(c: Container, volumes: Set<string>, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(p.child('name')));
  else errs.push(...eachInvalid(p.child('name'), c.name, isDNS1123Label(c.name)));
  if (!c.image) errs.push(required(p.child('image')));
  const tmp = c.terminationMessagePolicy;
  if (!tmp) errs.push(required(p.child('terminationMessagePolicy')));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(p.child('terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));

  const portNames = new Set<string>();
  (c.ports ?? []).forEach((port, i) => {
    const pp = p.child('ports').index(i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length > 0) errs.push(...eachInvalid(pp.child('name'), port.name, msgs));
      else if (portNames.has(port.name)) errs.push(duplicate(pp.child('name'), port.name));
      else portNames.add(port.name);
    }
    if (!port.containerPort) errs.push(required(pp.child('containerPort')));
    else errs.push(...eachInvalid(pp.child('containerPort'), port.containerPort, isValidPortNum(port.containerPort)));
    if (port.hostPort) errs.push(...eachInvalid(pp.child('hostPort'), port.hostPort, isValidPortNum(port.hostPort)));
    if (!port.protocol) errs.push(required(pp.child('protocol')));
    else if (!PORT_PROTOCOLS.includes(port.protocol)) errs.push(notSupported(pp.child('protocol'), port.protocol, PORT_PROTOCOLS));
  });
  (c.env ?? []).forEach((ev, i) => {
    const ep = p.child('env').index(i);
    if (!ev.name) errs.push(required(ep.child('name')));
    else errs.push(...eachInvalid(ep.child('name'), ev.name, isRelaxedEnvVarName(ev.name)));
    errs.push(...validateEnvVarValueFrom(ev, ep));
  });
  errs.push(...validateEnvFrom(c.envFrom ?? [], p.child('envFrom')));
  const mountPoints = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    const mp = p.child('volumeMounts').index(i);
    if (!m.name) errs.push(required(mp.child('name')));
    if (!volumes.has(m.name)) errs.push(notFoundField(mp.child('name'), m.name ?? ''));
    if (!m.mountPath) errs.push(required(mp.child('mountPath')));
    if (mountPoints.has(m.mountPath)) errs.push(invalidField(mp.child('mountPath'), m.mountPath, 'must be unique'));
    mountPoints.add(m.mountPath);
  });
  errs.push(...validateSubPaths(c.volumeMounts ?? [], p.child('volumeMounts')));
  const ipp = c.imagePullPolicy;
  if (!ipp) errs.push(required(p.child('imagePullPolicy')));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(ipp)) errs.push(notSupported(p.child('imagePullPolicy'), ipp, ['Always', 'IfNotPresent', 'Never']));
  return errs;
}

/**
 * The fields an ephemeral container may set (validation.go's allowedEphemeralContainerFields), in
 * EphemeralContainerCommon's field order: the others (ports, resources, resizePolicy,
 * restartPolicy, probes, lifecycle) are `Forbidden: cannot be set for an Ephemeral Container`.
 */
const EPHEMERAL_FIELDS: readonly [string, boolean][] = [
  ['name', true], ['image', true], ['command', true], ['args', true], ['workingDir', true], ['ports', false], ['envFrom', true],
  ['env', true], ['resources', false], ['resizePolicy', false], ['restartPolicy', false], ['volumeMounts', true], ['volumeDevices', true],
  ['livenessProbe', false], ['readinessProbe', false], ['startupProbe', false], ['lifecycle', false], ['terminationMessagePath', true],
  ['terminationMessagePolicy', true], ['imagePullPolicy', true], ['securityContext', true], ['stdin', true], ['stdinOnce', true], ['tty', true],
];

/** Go's "is this field its zero value": unset, null, "", 0, false, an empty list, an object of zero values (kubectl sends `resources: {}`). */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).every(isZero);
  return false;
}

/**
 * validateEphemeralContainers: each is a valid container (common rules), named uniquely across
 * containers, init and ephemeral containers, with a targetContainerName that names a container
 * or init container, and none of the fields an ephemeral container may not set.
 */
function validateEphemeralContainers(s: PodSpec, vols: Set<string>, p: FieldPath): FieldError[] {
  const list = s.ephemeralContainers ?? [];
  if (list.length === 0) return [];
  const errs: FieldError[] = [];
  const others = new Set([...(s.containers ?? []), ...(s.initContainers ?? [])].map((c) => c.name));
  const all = new Set(others);
  list.forEach((ec, i) => {
    const ip = p.index(i);
    errs.push(...validateContainerCommon(ec as Container, vols, ip));
    if (all.has(ec.name)) errs.push(duplicate(ip.child('name'), ec.name));
    else all.add(ec.name);
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) errs.push(notFoundField(ip.child('targetContainerName'), ec.targetContainerName));
    const fields = ec as unknown as Record<string, unknown>;
    for (const [f, allowed] of EPHEMERAL_FIELDS) if (!allowed && !isZero(fields[f])) errs.push(forbidden(ip.child(f), 'cannot be set for an Ephemeral Container'));
    (ec.volumeMounts ?? []).forEach((m, j) => {
      if (m.subPath) errs.push(forbidden(ip.child('volumeMounts').index(j).child('subPath'), 'cannot be set for an Ephemeral Container'));
      if (m.subPathExpr) errs.push(forbidden(ip.child('volumeMounts').index(j).child('subPathExpr'), 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}

/** ValidatePodSpec: containers, volumes, policies and names of a Pod or a pod template. */
export function validatePodSpec(spec: PodSpec | undefined, p: FieldPath): FieldError[] {
  const s = spec ?? ({} as PodSpec);
  const errs: FieldError[] = [];
  if (s.terminationGracePeriodSeconds === undefined || s.terminationGracePeriodSeconds === null) errs.push(required(p.child('terminationGracePeriodSeconds')));
  const { names: vols, errs: vErrs } = validateVolumes(s, p.child('volumes'));
  errs.push(...vErrs);

  const containers = s.containers ?? [];
  const cp = p.child('containers');
  if (containers.length === 0) errs.push(required(cp));
  const allNames = new Set<string>();
  containers.forEach((c, i) => {
    const ip = cp.index(i);
    errs.push(...validateContainerCommon(c, vols, ip));
    if (allNames.has(c.name)) errs.push(duplicate(ip.child('name'), c.name));
    else allNames.add(c.name);
    if (c.lifecycle?.postStart) errs.push(...validateHandler(c.lifecycle.postStart as unknown as Record<string, unknown>, ip.child('lifecycle', 'postStart')));
    if (c.lifecycle?.preStop) errs.push(...validateHandler(c.lifecycle.preStop as unknown as Record<string, unknown>, ip.child('lifecycle', 'preStop')));
    errs.push(...validateProbe(c.livenessProbe, ip.child('livenessProbe'), 'liveness'));
    errs.push(...validateProbe(c.readinessProbe, ip.child('readinessProbe'), 'readiness'));
    errs.push(...validateProbe(c.startupProbe, ip.child('startupProbe'), 'startup'));
    if (c.restartPolicy !== undefined) errs.push(forbidden(ip.child('restartPolicy'), 'may not be set for non-init containers'));
  });
  (s.initContainers ?? []).forEach((c, i) => {
    const ip = p.child('initContainers').index(i);
    errs.push(...validateContainerCommon(c, vols, ip));
    if (allNames.has(c.name)) errs.push(duplicate(ip.child('name'), c.name));
    else if (c.name) allNames.add(c.name);
    const sidecar = c.restartPolicy === 'Always';
    if (c.restartPolicy !== undefined && !sidecar) errs.push(notSupported(ip.child('restartPolicy'), c.restartPolicy, ['Always']));
    if (!sidecar) {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (c[f]) errs.push(forbidden(ip.child(f), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  errs.push(...validateEphemeralContainers(s, vols, p.child('ephemeralContainers')));
  const rp = s.restartPolicy;
  if (!rp) errs.push(required(p.child('restartPolicy')));
  else if (!['Always', 'OnFailure', 'Never'].includes(rp)) errs.push(notSupported(p.child('restartPolicy'), rp, ['Always', 'OnFailure', 'Never']));
  const dp = s.dnsPolicy;
  if (!dp) errs.push(required(p.child('dnsPolicy')));
  else if (!['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(dp)) {
    errs.push(notSupported(p.child('dnsPolicy'), dp, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  }
  if (dp === 'None') {
    if (!s.dnsConfig) errs.push(required(p.child('dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
    else if (!(s.dnsConfig.nameservers ?? []).length) errs.push(required(p.child('dnsConfig', 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  }
  (s.dnsConfig?.nameservers ?? []).forEach((ns, i) => errs.push(...eachInvalid(p.child('dnsConfig', 'nameservers').index(i), ns, isValidIP(ns))));
  errs.push(...validateLabels(s.nodeSelector, p.child('nodeSelector')));
  if (s.serviceAccountName) errs.push(...eachInvalid(p.child('serviceAccountName'), s.serviceAccountName, isDNS1123Subdomain(s.serviceAccountName)));
  if (s.nodeName) errs.push(...eachInvalid(p.child('nodeName'), s.nodeName, isDNS1123Subdomain(s.nodeName)));
  if (s.activeDeadlineSeconds !== undefined && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > MAX_INT32)) {
    errs.push(invalidField(p.child('activeDeadlineSeconds'), s.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32)));
  }
  if (s.hostname) errs.push(...eachInvalid(p.child('hostname'), s.hostname, isDNS1123Label(s.hostname)));
  if (s.subdomain) errs.push(...eachInvalid(p.child('subdomain'), s.subdomain, isDNS1123Label(s.subdomain)));
  return errs;
}

/** ValidatePodTemplateSpec: the template of a Deployment / ReplicaSet / StatefulSet. */
export function validatePodTemplateSpec(t: PodTemplateSpec | undefined, p: FieldPath): FieldError[] {
  const errs = [
    ...validateLabels(t?.metadata?.labels, p.child('labels')),
    ...validateAnnotations(t?.metadata?.annotations, p.child('annotations')),
    ...validatePodSpec(t?.spec, p.child('spec')),
  ];
  if ((t?.spec?.ephemeralContainers ?? []).length > 0) errs.push(forbidden(p.child('spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  return errs;
}

function podOnly(pod: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const check = (list: Container[] | undefined, name: string): void => (list ?? []).forEach((c, i) => {
    if (c.image !== undefined && c.image.trim() !== c.image) errs.push(invalidField(path('spec', name).index(i).child('image'), c.image, 'must not have leading or trailing whitespace'));
  });
  check(pod.spec?.containers, 'containers');
  check(pod.spec?.initContainers, 'initContainers');
  check(pod.spec?.ephemeralContainers as Container[] | undefined, 'ephemeralContainers');
  return errs;
}

/** ValidatePodCreate. */
export function validatePod(pod: Pod): FieldError[] {
  const errs = [
    ...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain, path('metadata')),
    ...validatePodSpec(pod.spec, path('spec')),
    ...podOnly(pod),
  ];
  if ((pod.spec?.ephemeralContainers ?? []).length > 0) errs.push(forbidden(path('spec', 'ephemeralContainers'), 'cannot be set on create'));
  return errs;
}

/** The fields a Pod update may change, as Kubernetes lists them in its error message. */
const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function stableJSON(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x as object).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x));
}

/** A short `- old / + new` listing of changed top-level spec fields (Kubernetes prints a cmp.Diff here). */
function specDiff(oldSpec: Record<string, unknown>, newSpec: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const k of [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort()) {
    const a = stableJSON(oldSpec[k]);
    const b = stableJSON(newSpec[k]);
    if (a === b) continue;
    lines.push(`  ${k}:`);
    if (oldSpec[k] !== undefined) lines.push(`- \t${a}`);
    if (newSpec[k] !== undefined) lines.push(`+ \t${b}`);
  }
  return lines.join('\n');
}

/** ValidatePodUpdate: the spec is immutable except images, activeDeadlineSeconds and added tolerations. */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(pod.metadata, old.metadata, path('metadata')),
    ...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain, path('metadata')),
    ...validatePodSpec(pod.spec, path('spec')),
    ...podOnly(pod),
  ];
  const ns = (pod.spec ?? {}) as PodSpec;
  const os = (old.spec ?? {}) as PodSpec;
  for (const list of ['containers', 'initContainers'] as const) {
    if ((ns[list] ?? []).length !== (os[list] ?? []).length) {
      errs.push(forbidden(path('spec', list), 'pod updates may not add or remove containers'));
      return errs;
    }
  }
  const ad = ns.activeDeadlineSeconds;
  if (ad !== undefined) {
    if (ad < 0 || ad > MAX_INT32) {
      errs.push(invalidField(path('spec', 'activeDeadlineSeconds'), ad, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (os.activeDeadlineSeconds !== undefined && os.activeDeadlineSeconds < ad) {
      errs.push(invalidField(path('spec', 'activeDeadlineSeconds'), ad, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (os.activeDeadlineSeconds !== undefined) {
    errs.push(invalidField(path('spec', 'activeDeadlineSeconds'), null, 'must not update from a positive integer to nil value'));
  }
  for (const t of os.tolerations ?? []) {
    const { tolerationSeconds: _ignored, ...rest } = t;
    const found = (ns.tolerations ?? []).some((n) => { const { tolerationSeconds: _x, ...r } = n; return stableJSON(r) === stableJSON(rest); });
    if (!found) { errs.push(forbidden(path('spec', 'tolerations'), 'existing toleration can not be modified except its tolerationSeconds')); break; }
  }
  // Munge the updatable fields to their old values; whatever still differs is forbidden.
  const munged: PodSpec = structuredClone(ns);
  munged.containers = (munged.containers ?? []).map((c, i) => ({ ...c, image: os.containers?.[i]?.image }));
  if (munged.initContainers) munged.initContainers = munged.initContainers.map((c, i) => ({ ...c, image: os.initContainers?.[i]?.image }));
  munged.activeDeadlineSeconds = os.activeDeadlineSeconds;
  munged.tolerations = os.tolerations;
  munged.schedulingGates = os.schedulingGates;
  if ((os.terminationGracePeriodSeconds ?? 0) < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = os.terminationGracePeriodSeconds;
  // Binding a Pod to a node (spec.nodeName from empty) is the scheduler's job; Kubernetes does it
  // through pods/binding, this project also accepts it on a plain update.
  if (!os.nodeName) munged.nodeName = os.nodeName;
  const clean = (x: PodSpec): Record<string, unknown> => JSON.parse(JSON.stringify(x)) as Record<string, unknown>;
  const a = clean(os);
  const b = clean(munged);
  if (stableJSON(a) !== stableJSON(b)) {
    errs.push(forbidden(path('spec'), `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${specDiff(a, b)}`));
  }
  return errs;
}

/**
 * ValidatePodEphemeralContainersUpdate (pods/NAME/ephemeralcontainers): the Pod as a whole must be
 * valid, and ephemeral containers may only be added — an existing one may not be removed or
 * changed (compared by name: a patch does not keep their order). `pod` differs from `old` only in
 * spec.ephemeralContainers (the strategy took nothing else from the request).
 */
export function validatePodEphemeralContainersUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(pod.metadata, old.metadata, path('metadata')),
    ...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain, path('metadata')),
    ...validatePodSpec(pod.spec, path('spec')),
    ...podOnly(pod),
  ];
  const sp = path('spec', 'ephemeralContainers');
  const byName = new Map((pod.spec?.ephemeralContainers ?? []).map((c) => [c.name, c]));
  const clean = (x: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(x)) as Record<string, unknown>;
  for (const was of old.spec?.ephemeralContainers ?? []) {
    const now = byName.get(was.name);
    if (!now) { errs.push(forbidden(sp, `existing ephemeral containers ${JSON.stringify(was.name)} may not be removed\n`)); continue; }
    const a = clean(was); const b = clean(now);
    if (stableJSON(a) !== stableJSON(b)) errs.push(forbidden(sp, `existing ephemeral containers ${JSON.stringify(was.name)} may not be changed\n${specDiff(a, b)}`));
  }
  return errs;
}

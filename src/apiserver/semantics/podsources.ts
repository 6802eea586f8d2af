/**
 * What a Pod takes from the API and from itself, validated as kube-apiserver does
 * (pkg/apis/core/validation: validateSecretVolumeSource, validateConfigMapVolumeSource,
 * validateKeyToPath, validateDownwardAPIVolumeFile, validateProjectionSources,
 * validateEnvVarValueFrom, ValidateEnvFrom, validateObjectFieldSelector,
 * validateContainerResourceFieldSelector/Divisor, validateLocalDescendingPath): the file names a
 * volume writes, where a subPath may point, and which fields the downward API may read. Field paths
 * and messages are Kubernetes' own, including its quirks (a downward API file's errors are reported
 * on the volume source, not on the item; a subPath's on the volumeMounts list, not on the mount).
 */
import type { FieldError } from '../../api/errors.js';
import { parseQuantity } from '../../api/quantity.js';
import type {
  ConfigMapKeySelector, DownwardAPIVolumeFile, EnvFromSource, EnvVar, KeyToPath, ObjectFieldSelector, ProjectedVolumeSource,
  ResourceFieldSelector, SecretKeySelector, Volume, VolumeMount,
} from 'kubernetes-types/core/v1.js';
import { type FieldPath, eachInvalid, forbidden, invalidField, notSupported, required } from './field.js';
import { isConfigMapKey, isQualifiedName, isRelaxedEnvVarName, nameIsDNSSubdomain } from './namevalidation.js';

const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

/** The fields a downward API volume file may name (validVolumeDownwardAPIFieldPathExpressions). */
const VOLUME_FIELDS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
/** The fields an env var may name (validEnvDownwardAPIFieldPathExpressions); labels/annotations only with a subscript. */
const ENV_FIELDS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
/** What ConvertDownwardAPIFieldLabel accepts for v1 Pods (anything else: "field label not supported"). */
const CONVERTIBLE_FIELDS = new Set(['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid',
  'spec.nodeName', 'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName', 'status.phase', 'status.hostIP',
  'status.hostIPs', 'status.podIP', 'status.podIPs']);
/** validContainerResourceFieldPathExpressions (plus the hugepages- prefixes). */
const RESOURCE_FIELDS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];
const HUGEPAGES_PREFIXES = ['limits.hugepages-', 'requests.hugepages-'];

const CPU_DIVISORS = [1e-3, 1];
const BYTE_DIVISORS = [1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18, 2 ** 10, 2 ** 20, 2 ** 30, 2 ** 40, 2 ** 50, 2 ** 60];
const BYTE_DIVISORS_TEXT = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei";

function badMode(mode: number | undefined): boolean {
  return mode !== undefined && mode !== null && (mode > 0o777 || mode < 0);
}

/** validateLocalDescendingPath: relative, no `..` element. */
export function validateLocalDescendingPath(target: string, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalidField(p, target, 'must be a relative path'));
  if (target.split('/').includes('..')) errs.push(invalidField(p, target, "must not contain '..'"));
  return errs;
}

/** validateLocalNonReservedPath: as above, and not starting with `..` (the writer's own `..data`). */
function validateLocalNonReservedPath(target: string, p: FieldPath): FieldError[] {
  const errs = validateLocalDescendingPath(target, p);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(invalidField(p, target, "must not start with '..'"));
  return errs;
}

function validateKeyToPath(kp: KeyToPath, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!kp.key) errs.push(required(p.child('key')));
  if (!kp.path) errs.push(required(p.child('path')));
  errs.push(...validateLocalNonReservedPath(kp.path ?? '', p.child('path')));
  if (badMode(kp.mode)) errs.push(invalidField(p.child('mode'), kp.mode, FILE_MODE_ERROR));
  return errs;
}

/** Splits `metadata.labels['key']` into path and subscript (fieldpath.SplitMaybeSubscriptedPath). */
function splitSubscript(fieldPath: string): { path: string; subscript?: string } {
  const m = /^(.*)\['(.*)'\]$/.exec(fieldPath);
  return m ? { path: m[1]!, subscript: m[2]! } : { path: fieldPath };
}

function validateObjectFieldSelector(fs: ObjectFieldSelector, expressions: readonly string[], p: FieldPath): FieldError[] {
  if (!fs.apiVersion) return [required(p.child('apiVersion'))];
  if (!fs.fieldPath) return [required(p.child('fieldPath'))];
  const { path, subscript } = splitSubscript(fs.fieldPath);
  let conversionError: string | undefined;
  if (fs.apiVersion !== 'v1') conversionError = `unsupported pod version: ${fs.apiVersion}`;
  else if (subscript !== undefined && path !== 'metadata.annotations' && path !== 'metadata.labels') {
    conversionError = `field label does not support subscript: ${fs.fieldPath}`;
  } else if (subscript === undefined && !CONVERTIBLE_FIELDS.has(fs.fieldPath) && fs.fieldPath !== 'spec.host') {
    conversionError = `field label not supported: ${fs.fieldPath}`;
  }
  if (conversionError) return [invalidField(p.child('fieldPath'), fs.fieldPath, `error converting fieldPath: ${conversionError}`)];
  if (subscript !== undefined) {
    return eachInvalid(p, path === 'metadata.annotations' ? subscript.toLowerCase() : subscript,
      isQualifiedName(path === 'metadata.annotations' ? subscript.toLowerCase() : subscript));
  }
  const internal = fs.fieldPath === 'spec.host' ? 'spec.nodeName' : fs.fieldPath;
  if (!expressions.includes(internal)) return [notSupported(p.child('fieldPath'), internal, expressions)];
  return [];
}

function validateResourceDivisor(resource: string, divisor: string | number | undefined, p: FieldPath): FieldError[] {
  const d = parseQuantity(divisor ?? 0);
  if (d === undefined || d === 0) return [];
  const one = (allowed: number[]): boolean => allowed.some((x) => Math.abs(x - d) <= x * 1e-12);
  if ((resource === 'limits.cpu' || resource === 'requests.cpu') && !one(CPU_DIVISORS)) {
    return [invalidField(p.child('divisor'), resource, "only divisor's values 1m and 1 are supported with the cpu resource")];
  }
  if ((resource === 'limits.memory' || resource === 'requests.memory') && !one(BYTE_DIVISORS)) {
    return [invalidField(p.child('divisor'), resource, `only divisor's values ${BYTE_DIVISORS_TEXT} are supported with the memory resource`)];
  }
  if ((resource === 'limits.ephemeral-storage' || resource === 'requests.ephemeral-storage') && !one(BYTE_DIVISORS)) {
    return [invalidField(p.child('divisor'), resource, `only divisor's values ${BYTE_DIVISORS_TEXT} are supported with the local ephemeral storage resource`)];
  }
  return [];
}

function validateResourceFieldSelector(fs: ResourceFieldSelector, p: FieldPath, volume: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (volume && !fs.containerName) errs.push(required(p.child('containerName')));
  else if (!fs.resource) errs.push(required(p.child('resource')));
  else if (!RESOURCE_FIELDS.includes(fs.resource) && !HUGEPAGES_PREFIXES.some((x) => fs.resource.startsWith(x))) {
    errs.push(notSupported(p.child('resource'), fs.resource, RESOURCE_FIELDS));
  }
  errs.push(...validateResourceDivisor(fs.resource ?? '', fs.divisor, p));
  return errs;
}

/** One downward API file; `p` is the volume source (or projection source), as Kubernetes reports it. */
function validateDownwardAPIVolumeFile(file: DownwardAPIVolumeFile, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!file.path) errs.push(required(p.child('path')));
  errs.push(...validateLocalNonReservedPath(file.path ?? '', p.child('path')));
  if (file.fieldRef) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_FIELDS, p.child('fieldRef')));
    if (file.resourceFieldRef) errs.push(invalidField(p, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (file.resourceFieldRef) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, p.child('resourceFieldRef'), true));
  } else {
    errs.push(required(p, 'one of fieldRef and resourceFieldRef is required'));
  }
  if (badMode(file.mode)) errs.push(invalidField(p.child('mode'), file.mode, FILE_MODE_ERROR));
  return errs;
}

function validateProjected(projection: ProjectedVolumeSource, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (badMode(projection.defaultMode)) errs.push(invalidField(p.child('defaultMode'), projection.defaultMode, FILE_MODE_ERROR));
  const paths = new Set<string>();
  (projection.sources ?? []).forEach((source, i) => {
    const sp = p.child('sources').index(i);
    let n = 0;
    for (const kind of ['secret', 'configMap'] as const) {
      const src = source[kind];
      if (!src) continue;
      n++;
      const pp = sp.child(kind);
      if (!src.name) errs.push(required(pp.child('name')));
      (src.items ?? []).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, pp.child('items').index(j)));
        if (!kp.path) return;
        if (paths.has(kp.path)) errs.push(invalidField(p, src.name ?? '', 'conflicting duplicate paths'));
        else paths.add(kp.path);
      });
    }
    if (source.downwardAPI) {
      n++;
      const pp = sp.child('downwardAPI');
      for (const file of source.downwardAPI.items ?? []) {
        errs.push(...validateDownwardAPIVolumeFile(file, pp));
        if (!file.path) continue;
        if (paths.has(file.path)) errs.push(invalidField(p, file.path, 'conflicting duplicate paths'));
        else paths.add(file.path);
      }
    }
    const sat = source.serviceAccountToken;
    if (sat) {
      n++;
      const pp = sp.child('serviceAccountToken');
      const exp = sat.expirationSeconds ?? 3600;
      if (exp < 600) errs.push(invalidField(pp.child('expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalidField(pp.child('expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      if (!sat.path) errs.push(required(p.child('path')));
    }
    if (n > 1) errs.push(forbidden(sp, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

/** The sources of one volume (configMap, secret, downwardAPI, projected, emptyDir); `vp` is `spec.volumes[i]`. */
export function validateVolumeSource(v: Volume, vp: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (v.secret) {
    const p = vp.child('secret');
    if (!v.secret.secretName) errs.push(required(p.child('secretName')));
    if (badMode(v.secret.defaultMode)) errs.push(invalidField(p.child('defaultMode'), v.secret.defaultMode, FILE_MODE_ERROR));
    (v.secret.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, p.child('items').index(i))));
  }
  if (v.configMap) {
    const p = vp.child('configMap');
    if (!v.configMap.name) errs.push(required(p.child('name')));
    if (badMode(v.configMap.defaultMode)) errs.push(invalidField(p.child('defaultMode'), v.configMap.defaultMode, FILE_MODE_ERROR));
    (v.configMap.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, p.child('items').index(i))));
  }
  if (v.downwardAPI) {
    const p = vp.child('downwardAPI');
    if (badMode(v.downwardAPI.defaultMode)) errs.push(invalidField(p.child('defaultMode'), v.downwardAPI.defaultMode, FILE_MODE_ERROR));
    for (const file of v.downwardAPI.items ?? []) errs.push(...validateDownwardAPIVolumeFile(file, p));
  }
  if (v.projected) errs.push(...validateProjected(v.projected, vp.child('projected')));
  if (v.emptyDir?.sizeLimit !== undefined && (parseQuantity(v.emptyDir.sizeLimit) ?? 0) < 0) {
    errs.push(forbidden(vp.child('emptyDir', 'sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
  }
  return errs;
}

function validateKeySelector(s: ConfigMapKeySelector | SecretKeySelector, p: FieldPath): FieldError[] {
  const errs = eachInvalid(p.child('name'), s.name ?? '', nameIsDNSSubdomain(s.name ?? '', false));
  if (!s.key) errs.push(required(p.child('key')));
  else errs.push(...eachInvalid(p.child('key'), s.key, isConfigMapKey(s.key)));
  return errs;
}

/** validateEnvVarValueFrom; `ep` is `...env[i]`. */
export function validateEnvVarValueFrom(ev: EnvVar, ep: FieldPath): FieldError[] {
  const vf = ev.valueFrom;
  if (!vf) return [];
  const p = ep.child('valueFrom');
  const errs: FieldError[] = [];
  let n = 0;
  if (vf.fieldRef) { n++; errs.push(...validateObjectFieldSelector(vf.fieldRef, ENV_FIELDS, p.child('fieldRef'))); }
  if (vf.resourceFieldRef) { n++; errs.push(...validateResourceFieldSelector(vf.resourceFieldRef, p.child('resourceFieldRef'), false)); }
  if (vf.configMapKeyRef) { n++; errs.push(...validateKeySelector(vf.configMapKeyRef, p.child('configMapKeyRef'))); }
  if (vf.secretKeyRef) { n++; errs.push(...validateKeySelector(vf.secretKeyRef, p.child('secretKeyRef'))); }
  if (n === 0) errs.push(invalidField(p, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (ev.value) errs.push(invalidField(p, '', 'may not be specified when `value` is not empty'));
  else if (n > 1) errs.push(invalidField(p, '', 'may not have more than one field specified at a time'));
  return errs;
}

/** ValidateEnvFrom; `p` is `...envFrom`. */
export function validateEnvFrom(sources: readonly EnvFromSource[], p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  sources.forEach((ev, i) => {
    const ip = p.index(i);
    if (ev.prefix) errs.push(...eachInvalid(ip.child('prefix'), ev.prefix, isRelaxedEnvVarName(ev.prefix)));
    let n = 0;
    for (const kind of ['configMapRef', 'secretRef'] as const) {
      const ref = ev[kind];
      if (!ref) continue;
      n++;
      if (!ref.name) errs.push(required(ip.child(kind, 'name')));
      else errs.push(...eachInvalid(ip.child(kind, 'name'), ref.name, nameIsDNSSubdomain(ref.name, true)));
    }
    if (n === 0) errs.push(invalidField(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalidField(p, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

/** subPath / subPathExpr of the mounts; `p` is `...volumeMounts` (Kubernetes names the list, not the mount). */
export function validateSubPaths(mounts: readonly VolumeMount[], p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  mounts.forEach((m, i) => {
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, p.child('subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalidField(p.index(i).child('subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, p.child('subPathExpr')));
    }
  });
  return errs;
}

/**
 * Decodes Kubernetes' protobuf wire format (`application/vnd.kubernetes.protobuf`) into the JSON
 * shape of the object. client-go's typed clients (kubectl create namespace|deployment|service,
 * `run --rm`'s delete) send request bodies this way; we store JSON, so bodies are converted on
 * entry. Responses are always JSON (clients accept it).
 *
 * Envelope: magic "k8s\0" + runtime.Unknown { typeMeta{apiVersion,kind}, raw }. The raw message is
 * decoded with the field table in schema.json (generated from Kubernetes' generated.proto files by
 * generate.mjs). Proto2 encodes every non-pointer Go field even when empty, while JSON omits empty
 * values (`omitempty`); zero scalars are therefore dropped, except for fields known to be pointers
 * where zero/false is meaningful (POINTER_FIELDS).
 */
import schemaJson from './schema.json' with { type: 'json' };
import { badRequest } from '../../../api/errors.js';

type Field = [number, string, 'single' | 'repeated' | 'map', string, string?];
const SCHEMA = schemaJson as unknown as Record<string, Field[]>;
const BY_NUMBER = new Map<string, Map<number, Field>>();
for (const [name, fields] of Object.entries(SCHEMA)) BY_NUMBER.set(name, new Map(fields.map((f) => [f[0], f])));

/** The 4-byte prefix of every Kubernetes protobuf body. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const GROUP_PACKAGES: Record<string, string> = {
  '': 'k8s.io.api.core', apps: 'k8s.io.api.apps', 'discovery.k8s.io': 'k8s.io.api.discovery',
  'coordination.k8s.io': 'k8s.io.api.coordination', autoscaling: 'k8s.io.api.autoscaling', batch: 'k8s.io.api.batch', policy: 'k8s.io.api.policy',
  'networking.k8s.io': 'k8s.io.api.networking',
  'rbac.authorization.k8s.io': 'k8s.io.api.rbac', 'authentication.k8s.io': 'k8s.io.api.authentication', 'authorization.k8s.io': 'k8s.io.api.authorization',
};

/** Go pointer fields whose zero value must survive decoding (JSON keeps them when set): `field` or `Message.field`. */
const POINTER_FIELDS = new Set([
  'DeploymentSpec.replicas', 'ReplicaSetSpec.replicas', 'StatefulSetSpec.replicas', 'gracePeriodSeconds', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'automountServiceAccountToken',
  'enableServiceLinks', 'shareProcessNamespace', 'hostUsers', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'fsGroup',
  'privileged', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'revisionHistoryLimit', 'progressDeadlineSeconds',
  'ready', 'serving', 'terminating', 'orphanDependents', 'blockOwnerDeletion', 'controller', 'allocateLoadBalancerNodePorts',
  'timeoutSeconds', 'deletionGracePeriodSeconds', 'partition', 'maxUnavailable', 'maxSurge', 'ordinals', 'start',
  'leaseDurationSeconds', 'leaseTransitions', 'optional', 'defaultMode', 'mode', 'priority', 'ignoreDryRun',
  'immutable', 'expirationSeconds',
]);

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}
  varint(): bigint {
    let result = 0n; let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw badRequest('protobuf: truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw badRequest('protobuf: varint too long');
    }
  }
  bytes(): Uint8Array {
    const n = Number(this.varint());
    if (n < 0 || this.pos + n > this.end) throw badRequest('protobuf: truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`protobuf: unsupported wire type ${wire}`);
    if (this.pos > this.end) throw badRequest('protobuf: truncated field');
  }
}

const utf8 = new TextDecoder('utf-8');

function scalarFromVarint(type: string, v: bigint): unknown {
  switch (type) {
    case 'bool': return v !== 0n;
    case 'int32': return Number(BigInt.asIntN(32, v));
    case 'int64': return Number(BigInt.asIntN(64, v));
    case 'uint32': case 'uint64': return Number(v);
    case 'sint32': case 'sint64': return Number((v >> 1n) ^ -(v & 1n));
    default: throw badRequest(`protobuf: varint for ${type}`);
  }
}

function readScalar(r: Reader, wire: number, type: string): unknown {
  if (wire === 0) return scalarFromVarint(type, r.varint());
  if (wire === 2) {
    const b = r.bytes();
    if (type === 'string') return utf8.decode(b);
    if (type === 'bytes') return Buffer.from(b).toString('base64');
    return decodeMessage(b, type);
  }
  if (wire === 1) {
    const dv = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8); r.pos += 8;
    return type === 'double' ? dv.getFloat64(0, true) : Number(dv.getBigInt64(0, true));
  }
  if (wire === 5) {
    const dv = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 4); r.pos += 4;
    return type === 'float' ? dv.getFloat32(0, true) : dv.getInt32(0, true);
  }
  throw badRequest(`protobuf: unsupported wire type ${wire}`);
}

const isScalar = (t: string): boolean => !SCHEMA[t];

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** Converts the special apimachinery messages to their JSON forms. */
function special(type: string, o: Record<string, unknown>): unknown {
  switch (type) {
    case `${META}.Time`: case `${META}.MicroTime`: {
      // Go's zero time.Time (year 1) is what non-pointer unset timestamps carry; JSON says null.
      // gogo encodes a zero Time as an empty message.
      if (o.seconds === undefined && o.nanos === undefined) return null;
      if (Number(o.seconds ?? 0) <= -62135596800) return null;
      const ms = Number(o.seconds ?? 0) * 1000 + Math.floor(Number(o.nanos ?? 0) / 1e6);
      const iso = new Date(ms).toISOString();
      return type.endsWith('MicroTime') ? iso.replace(/\.(\d{3})Z$/, `.$1${String(Math.floor(Number(o.nanos ?? 0) / 1000) % 1000).padStart(3, '0')}Z`) : iso.replace(/\.\d{3}Z$/, 'Z');
    }
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return Number(o.type ?? 0) === 1 ? (o.strVal ?? '') : (o.intVal ?? 0);
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return o.string ?? '0';
    case `${META}.Duration`: {
      const ns = Number(o.duration ?? 0);
      return `${ns / 1e9}s`;
    }
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension':
    case `${META}.FieldsV1`: {
      const raw = (o.raw ?? o.Raw) as string | undefined;
      if (!raw) return type.endsWith('FieldsV1') ? {} : undefined;
      const text = Buffer.from(raw, 'base64').toString('utf8');
      try { return JSON.parse(text); } catch { return text; }
    }
    default: return undefined;
  }
}

const SPECIAL = new Set([`${META}.Time`, `${META}.MicroTime`, 'k8s.io.apimachinery.pkg.util.intstr.IntOrString',
  'k8s.io.apimachinery.pkg.api.resource.Quantity', `${META}.Duration`, 'k8s.io.apimachinery.pkg.runtime.RawExtension', `${META}.FieldsV1`]);

/** Decodes one message of type `type` (fully qualified proto name) into JSON form. */
export function decodeMessage(buf: Uint8Array, type: string): unknown {
  const fields = BY_NUMBER.get(type);
  if (!fields) throw badRequest(`protobuf: unknown message type ${type}`);
  const r = new Reader(buf);
  const o: Record<string, unknown> = {};
  const short = type.slice(type.lastIndexOf('.') + 1);
  while (r.pos < r.end) {
    const key = r.varint();
    const num = Number(key >> 3n); const wire = Number(key & 7n);
    const f = fields.get(num);
    if (!f) { r.skip(wire); continue; }
    const [, name, card, t, vt] = f;
    if (card === 'map') {
      if (wire !== 2) throw badRequest('protobuf: map entry must be length-delimited');
      const er = new Reader(r.bytes());
      let k: unknown = ''; let v: unknown = isScalar(vt!) ? (vt === 'string' ? '' : vt === 'bytes' ? '' : 0) : {};
      while (er.pos < er.end) {
        const ek = er.varint(); const en = Number(ek >> 3n); const ew = Number(ek & 7n);
        if (en === 1) k = readScalar(er, ew, t);
        else if (en === 2) v = readScalar(er, ew, vt!);
        else er.skip(ew);
      }
      ((o[name] ??= {}) as Record<string, unknown>)[String(k)] = v;
    } else if (card === 'repeated') {
      const arr = (o[name] ??= []) as unknown[];
      if (wire === 2 && isScalar(t) && t !== 'string' && t !== 'bytes') {
        const pr = new Reader(r.bytes());
        while (pr.pos < pr.end) arr.push(readScalar(pr, t === 'double' || t === 'fixed64' ? 1 : t === 'float' || t === 'fixed32' ? 5 : 0, t));
      } else {
        arr.push(readScalar(r, wire, t));
      }
    } else {
      const v = readScalar(r, wire, t);
      if (v === null || v === undefined) { delete o[name]; continue; }
      if (isZero(v) && !POINTER_FIELDS.has(name) && !POINTER_FIELDS.has(`${short}.${name}`)) continue;
      o[name] = v;
    }
  }
  return SPECIAL.has(type) ? special(type, o) : o;
}

/** The proto message name for apiVersion + kind (DeleteOptions is always meta/v1's). */
export function messageType(apiVersion: string, kind: string): string | undefined {
  if (kind === 'DeleteOptions') return `${META}.DeleteOptions`;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = GROUP_PACKAGES[group];
  const name = pkg && `${pkg}.${version}.${kind}`;
  return name && SCHEMA[name] ? name : undefined;
}

/** True when `buf` starts with the Kubernetes protobuf magic. */
export function isK8sProtobuf(buf: Uint8Array): boolean {
  return buf.length >= 4 && PROTOBUF_MAGIC.equals(buf.subarray(0, 4));
}

/** Decodes a whole `application/vnd.kubernetes.protobuf` body into a JSON object with apiVersion/kind. */
export function decodeK8sProtobuf(buf: Uint8Array): Record<string, unknown> {
  if (!isK8sProtobuf(buf)) throw badRequest('protobuf: missing Kubernetes protobuf magic prefix');
  const unknown = decodeMessage(buf.subarray(4), 'k8s.io.apimachinery.pkg.runtime.Unknown') as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: string };
  const apiVersion = unknown.typeMeta?.apiVersion ?? ''; const kind = unknown.typeMeta?.kind ?? '';
  const type = messageType(apiVersion, kind);
  if (!type) throw badRequest(`protobuf: no protobuf decoding for ${apiVersion}, Kind=${kind}`);
  const obj = decodeMessage(Buffer.from(unknown.raw ?? '', 'base64'), type) as Record<string, unknown>;
  return { apiVersion, kind, ...obj };
}

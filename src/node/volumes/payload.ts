/**
 * What each kind of volume holds, as the kubelet's volume plugins compute it (their MakePayload /
 * collectData): configMap, secret, downwardAPI, projected (configMap, secret, downwardAPI and
 * serviceAccountToken sources). Pure apart from the two lookups it is given: current objects (the
 * agent's informer caches) and ServiceAccount tokens (the token manager). The errors are the
 * kubelet's (`configmap "x" not found`, `configmap references non-existent config key: k`); the
 * agent reports them as `MountVolume.SetUp failed for volume "v" : <error>`.
 */
import type { ConfigMap, Container, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, Volume, VolumeProjection } from 'kubernetes-types/core/v1.js';
import type { FileProjection } from './atomicwriter.js';
import { parseQuantity } from '../../api/quantity.js';
import { divideQuantity } from './quantity.js';

/** Where a payload's objects and tokens come from. */
export interface PayloadSources {
  configMap(namespace: string, name: string): ConfigMap | undefined;
  secret(namespace: string, name: string): Secret | undefined;
  /** A token for the Pod's ServiceAccount (the token manager: cached, refreshed). */
  token(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<string>;
  /** The node's allocatable resources: what `limits.*` read when a container sets none. */
  allocatable?: Record<string, string>;
}

/** A volume whose contents cannot be made (yet): the Pod waits, with this message. */
export class VolumeSetupError extends Error {
  readonly code = 'VOLUME_SETUP_FAILED';
}

/** The volume kinds this node materializes as files. */
export function isFileVolume(v: Volume): boolean {
  return !!(v.configMap || v.secret || v.downwardAPI || v.projected);
}

function mapped(items: readonly KeyToPath[] | undefined, all: Record<string, Buffer>, defaultMode: number, optional: boolean, missingKey: (k: string) => string): Map<string, FileProjection> {
  const out = new Map<string, FileProjection>();
  if (!items?.length) {
    for (const [k, data] of Object.entries(all)) out.set(k, { data, mode: defaultMode });
    return out;
  }
  for (const it of items) {
    const data = all[it.key];
    if (data === undefined) {
      if (optional) continue;
      throw new VolumeSetupError(missingKey(it.key));
    }
    out.set(it.path, { data, mode: it.mode ?? defaultMode });
  }
  return out;
}

function configMapData(cm: ConfigMap): Record<string, Buffer> {
  const all: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) all[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) all[k] = Buffer.from(v, 'base64');
  return all;
}

function secretData(s: Secret): Record<string, Buffer> {
  const all: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) all[k] = Buffer.from(v, 'base64');
  return all;
}

function configMapPayload(pod: Pod, name: string, items: readonly KeyToPath[] | undefined, optional: boolean, mode: number, src: PayloadSources): Map<string, FileProjection> {
  const cm = src.configMap(pod.metadata?.namespace ?? 'default', name);
  if (!cm) {
    if (optional) return new Map();
    throw new VolumeSetupError(`configmap "${name}" not found`);
  }
  return mapped(items, configMapData(cm), mode, optional, (k) => `configmap references non-existent config key: ${k}`);
}

function secretPayload(pod: Pod, name: string, items: readonly KeyToPath[] | undefined, optional: boolean, mode: number, src: PayloadSources): Map<string, FileProjection> {
  const s = src.secret(pod.metadata?.namespace ?? 'default', name);
  if (!s) {
    if (optional) return new Map();
    throw new VolumeSetupError(`secret "${name}" not found`);
  }
  return mapped(items, secretData(s), mode, optional, (k) => `references non-existent secret key: ${k}`);
}

/** Go's %q of a string (the downward API's label and annotation lines). */
function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([01][0-9a-f])/g, (_m, h: string) => `\\x${h}`);
}

/** fieldpath.FormatMap: `key="value"` lines sorted by key. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${goQuote(m![k]!)}`).join('\n');
}

/** A downward API field of the Pod (ExtractFieldPathAsString); undefined for an unsupported path. */
export function podField(pod: Pod, path: string, extra: { podIP?: string; hostIP?: string; nodeName?: string } = {}): string | undefined {
  const md = pod.metadata ?? {};
  switch (path) {
    case 'metadata.name': return md.name ?? '';
    case 'metadata.namespace': return md.namespace ?? '';
    case 'metadata.uid': return md.uid ?? '';
    case 'metadata.labels': return formatMap(md.labels);
    case 'metadata.annotations': return formatMap(md.annotations);
    case 'spec.nodeName': return extra.nodeName ?? pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP': case 'status.podIPs': return extra.podIP ?? pod.status?.podIP ?? '';
    case 'status.hostIP': case 'status.hostIPs': return extra.hostIP ?? pod.status?.hostIP ?? '';
    default: {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (m) return (m[1] === 'labels' ? md.labels : md.annotations)?.[m[2]!] ?? '';
      return undefined;
    }
  }
}

/** A container's resource limit or request divided by `divisor` (limits default to the node's allocatable). */
export function resourceField(container: Container | undefined, resource: string, divisor: string | number | undefined, allocatable: Record<string, string> = {}): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const res = container?.resources ?? {};
  let q = (kind === 'limits' ? res.limits : res.requests)?.[name];
  // Unset limits are the node's allocatable; unset requests are 0 (cpu/memory: their limits when set).
  if (q === undefined && kind === 'limits') q = allocatable[name];
  if (q === undefined && kind === 'requests') q = res.limits?.[name] ?? '0';
  return divideQuantity(name, parseQuantity(q) ?? 0, parseQuantity(divisor ?? '1') || 1);
}

function downwardPayload(pod: Pod, items: readonly DownwardAPIVolumeFile[] | undefined, mode: number, src: PayloadSources, extra: { podIP?: string; hostIP?: string }): Map<string, FileProjection> {
  const out = new Map<string, FileProjection>();
  for (const it of items ?? []) {
    let text: string | undefined;
    if (it.fieldRef) {
      text = podField(pod, it.fieldRef.fieldPath, extra);
      if (text === undefined) throw new VolumeSetupError(`unsupported fieldPath: ${it.fieldRef.fieldPath}`);
    } else if (it.resourceFieldRef) {
      const c = (pod.spec?.containers ?? []).find((x) => x.name === it.resourceFieldRef!.containerName);
      text = resourceField(c, it.resourceFieldRef.resource, it.resourceFieldRef.divisor, src.allocatable);
    } else continue;
    out.set(it.path, { data: Buffer.from(text), mode: it.mode ?? mode });
  }
  return out;
}

async function projectedPayload(pod: Pod, sources: readonly VolumeProjection[] | undefined, mode: number, src: PayloadSources, extra: { podIP?: string; hostIP?: string }): Promise<Map<string, FileProjection>> {
  const out = new Map<string, FileProjection>();
  const errors: string[] = [];
  for (const s of sources ?? []) {
    try {
      let part: Map<string, FileProjection> | undefined;
      if (s.configMap) part = configMapPayload(pod, s.configMap.name ?? '', s.configMap.items, !!s.configMap.optional, mode, src);
      else if (s.secret) part = secretPayload(pod, s.secret.name ?? '', s.secret.items, !!s.secret.optional, mode, src);
      else if (s.downwardAPI) part = downwardPayload(pod, s.downwardAPI.items, mode, src, extra);
      else if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        part = new Map([[t.path, { data: Buffer.from(await src.token(pod, t.audience || undefined, t.expirationSeconds ?? 3600)), mode }]]);
      }
      for (const [k, v] of part ?? []) out.set(k, v);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new VolumeSetupError(errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`);
  return out;
}

/** The files of `volume` for `pod`, or a VolumeSetupError saying why they cannot be made now. */
export async function volumePayload(pod: Pod, volume: Volume, src: PayloadSources, extra: { podIP?: string; hostIP?: string } = {}): Promise<Map<string, FileProjection>> {
  if (volume.configMap) return configMapPayload(pod, volume.configMap.name ?? '', volume.configMap.items, !!volume.configMap.optional, volume.configMap.defaultMode ?? 0o644, src);
  if (volume.secret) return secretPayload(pod, volume.secret.secretName ?? '', volume.secret.items, !!volume.secret.optional, volume.secret.defaultMode ?? 0o644, src);
  if (volume.downwardAPI) return downwardPayload(pod, volume.downwardAPI.items, volume.downwardAPI.defaultMode ?? 0o644, src, extra);
  if (volume.projected) return projectedPayload(pod, volume.projected.sources, volume.projected.defaultMode ?? 0o644, src, extra);
  return new Map();
}

/** The kubelet's directory name of a volume plugin (`kubernetes.io~configmap`). */
export function pluginDir(v: Volume): string {
  if (v.configMap) return 'kubernetes.io~configmap';
  if (v.secret) return 'kubernetes.io~secret';
  if (v.downwardAPI) return 'kubernetes.io~downward-api';
  if (v.projected) return 'kubernetes.io~projected';
  if (v.emptyDir) return 'kubernetes.io~empty-dir';
  return 'kubernetes.io~unsupported';
}

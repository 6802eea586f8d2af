/**
 * The volumes of one Pod on this node, as the kubelet's volume manager keeps them: each volume is a
 * directory under `<podDir>/volumes/<plugin>/<name>` (kubernetes.io~configmap, ~secret,
 * ~downward-api, ~projected, ~empty-dir) made before any container starts and written again on
 * every sync — through the AtomicWriter, so a ConfigMap or Secret that changed, or a token due for
 * refresh, appears in the running containers all at once, and an unchanged one writes nothing.
 * `mountsFor` gives each container its volumeMounts as bind mounts (the runtime makes them in the
 * container's own mount namespace). API-data volumes (configMap, secret, downwardAPI, projected)
 * are mounted read-only, as the kubelet mounts them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { writeAtomic } from './atomicwriter.js';
import type { ContainerMount } from './mounts.js';
import { ContainerConfigError } from '../env.js';
import { isFileVolume, pluginDir, volumePayload, type PayloadSources } from './payload.js';

/** The outcome of one setUp: volumes that could not be made (name → the kubelet's message) and ones skipped. */
export interface VolumeSetup {
  failed: { volume: string; message: string }[];
  /** Volume kinds this node does not provide (mounted as nothing, with a Warning). */
  unsupported: { volume: string; kind: string }[];
}

/** The volume's kind (the name of its source field), for messages. */
function kindOf(v: Volume): string {
  return Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
}

export class PodVolumes {
  constructor(private readonly podDir: string, private readonly sources: PayloadSources) {}

  /** Where volume `v` lives on this node. */
  dirOf(v: Volume): string {
    return path.join(this.podDir, 'volumes', pluginDir(v), v.name);
  }

  /** Makes or refreshes every volume of `pod` (SetUp). Never throws for a volume's own failure. */
  async setUp(pod: Pod, extra: { podIP?: string; hostIP?: string } = {}): Promise<VolumeSetup> {
    const out: VolumeSetup = { failed: [], unsupported: [] };
    for (const v of pod.spec?.volumes ?? []) {
      try {
        if (v.emptyDir) {
          fs.mkdirSync(this.dirOf(v), { recursive: true, mode: 0o777 });
          fs.chmodSync(this.dirOf(v), 0o777);
        } else if (isFileVolume(v)) {
          await writeAtomic(this.dirOf(v), await volumePayload(pod, v, this.sources, extra));
        } else if (!v.hostPath) {
          out.unsupported.push({ volume: v.name, kind: kindOf(v) });
        }
      } catch (e) {
        out.failed.push({ volume: v.name, message: (e as Error).message });
      }
    }
    return out;
  }

  /** Container `c`'s volumeMounts as bind mounts (subPath: a path inside the volume). */
  mountsFor(pod: Pod, c: Container): ContainerMount[] {
    const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    const out: ContainerMount[] = [];
    for (const m of c.volumeMounts ?? []) {
      const v = volumes.get(m.name);
      if (!v) continue;
      let source: string;
      if (v.hostPath) source = v.hostPath.path;
      else if (v.emptyDir || isFileVolume(v)) source = this.dirOf(v);
      else continue;
      if (m.subPath) {
        const resolved = subPathSource(source, m.subPath, !!v.emptyDir);
        if (resolved === 'outside') throw new ContainerConfigError(`failed to prepare subPath for volumeMount "${m.name}" of container "${c.name}"`);
        if (!resolved) continue;
        source = resolved;
      } else if (!fs.existsSync(source)) continue;
      out.push({ source, target: m.mountPath, readOnly: !!m.readOnly || isFileVolume(v) });
    }
    return out;
  }
}

/** Whether `p` is `base` or below it (both resolved). */
function within(p: string, base: string): boolean {
  return p === base || p.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/**
 * The real path a subPath mount binds, as the kubelet's subpath.SafeMakeDir / doSafeOpen allow it:
 * symlinks are followed (a ConfigMap key is `key -> ..data/key`) but what they lead to must stay
 * inside the volume, else a container that planted `sub -> /etc` in an emptyDir would get the
 * machine's /etc bound into its next container ('outside'). A missing subPath of a writable volume
 * is made (its deepest existing ancestor checked first); of any other volume it is skipped
 * (undefined). The resolved path is what gets bound, so a later symlink swap does not redirect it.
 */
export function subPathSource(volumeRoot: string, subPath: string, writable: boolean): string | undefined | 'outside' {
  const base = fs.realpathSync(volumeRoot);
  const wanted = path.join(volumeRoot, subPath);
  let existing = wanted;
  while (!fs.existsSync(existing) && existing !== volumeRoot && existing.length > volumeRoot.length) existing = path.dirname(existing);
  let real: string;
  try { real = fs.realpathSync(existing); } catch { return undefined; }
  if (!within(real, base)) return 'outside';
  if (existing !== wanted) {
    // A dangling symlink is no place to make a directory (mkdir would follow it).
    try { fs.lstatSync(wanted); return 'outside'; } catch { /* truly missing */ }
    if (!writable) return undefined;
    fs.mkdirSync(path.join(real, path.relative(existing, wanted)), { recursive: true });
    real = fs.realpathSync(wanted);
    if (!within(real, base)) return 'outside';
  }
  return real;
}

/** The ConfigMaps and Secrets a Pod refers to (volumes, projected sources, env, envFrom): `namespace/name` keys. */
export function referencedObjects(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const ns = pod.metadata?.namespace ?? 'default';
  const configMaps = new Set<string>(); const secrets = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(`${ns}/${v.configMap.name}`);
    if (v.secret?.secretName) secrets.add(`${ns}/${v.secret.secretName}`);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(`${ns}/${s.configMap.name}`);
      if (s.secret?.name) secrets.add(`${ns}/${s.secret.name}`);
    }
  }
  // Ephemeral containers (kubectl debug) may take env and envFrom from these objects too.
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(`${ns}/${e.valueFrom.configMapKeyRef.name}`);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(`${ns}/${e.valueFrom.secretKeyRef.name}`);
    }
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef?.name) configMaps.add(`${ns}/${e.configMapRef.name}`);
      if (e.secretRef?.name) secrets.add(`${ns}/${e.secretRef.name}`);
    }
  }
  return { configMaps, secrets };
}

/**
 * The scale subresource (autoscaling/v1 Scale): of deployments, replicasets and statefulsets
 * (spec.replicas, status.replicas, spec.selector), and of custom resources whose CRD enables it at
 * the JSON paths it names (specReplicasPath, statusReplicasPath, labelSelectorPath).
 */
import type { LabelSelector as LabelSelectorSpec } from 'kubernetes-types/meta/v1.js';
import { fieldsOf, type KubeObject } from '../../api/object.js';
import { labelSelectorFromLabelSelector } from '../../api/selectors.js';

export interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

/** A CRD's scale subresource: `.spec.replicas`-style paths without array notation. */
export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

function segments(p: string): string[] {
  return p.replace(/^\./, '').split('.').filter((s) => s !== '');
}

function at(obj: unknown, p: string): unknown {
  let cur = obj;
  for (const s of segments(p)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

/** Sets the replicas a Scale asks for on `obj` (a private copy), at spec.replicas or the CRD's path. */
export function setScaleReplicas(obj: KubeObject, paths: ScalePaths | undefined, replicas: number): void {
  if (!paths) {
    fieldsOf(obj).spec = { ...(fieldsOf(obj).spec as object), replicas };
    return;
  }
  const segs = segments(paths.specReplicasPath);
  let cur = fieldsOf(obj) as Record<string, unknown>;
  for (const s of segs.slice(0, -1)) {
    const next = cur[s];
    cur = cur[s] = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...(next as object) } : {};
  }
  cur[segs[segs.length - 1]!] = replicas;
}

/** Builds the Scale view of a scalable object. */
export function toScale(obj: KubeObject, paths?: ScalePaths): Scale {
  const m = obj.metadata ?? {};
  const meta = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp };
  if (paths) {
    const spec = at(obj, paths.specReplicasPath);
    const status = at(obj, paths.statusReplicasPath);
    const sel = paths.labelSelectorPath ? at(obj, paths.labelSelectorPath) : undefined;
    return {
      apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: meta,
      spec: { replicas: typeof spec === 'number' ? spec : 0 },
      status: { replicas: typeof status === 'number' ? status : 0, ...(typeof sel === 'string' ? { selector: sel } : {}) },
    };
  }
  const o = fieldsOf(obj) as { spec?: { replicas?: number; selector?: LabelSelectorSpec }; status?: { replicas?: number } };
  let selector: string | undefined;
  try {
    selector = o.spec?.selector ? labelSelectorFromLabelSelector(o.spec.selector).toString() : undefined;
  } catch {
    selector = undefined;
  }
  return {
    apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: meta,
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, ...(selector !== undefined ? { selector } : {}) },
  };
}

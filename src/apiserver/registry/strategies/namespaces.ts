/**
 * Namespaces (Kubernetes' namespace strategy and REST): a new Namespace is Active and carries the
 * `kubernetes` finalizer in spec.finalizers, which changes only through the finalize subresource.
 * DELETE turns it Terminating (deletionTimestamp, phase) and it stays until both its metadata
 * finalizers and spec.finalizers are empty — the namespace controller empties it, then finalizes.
 */
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { fieldsOf, type KubeObject } from '../../../api/object.js';
import type { ResourceInfo } from '../../../api/resources.js';
import { rfc3339 } from '../meta.js';
import { isObject } from '../shape.js';
import { copyOf, genericStrategy, type Strategy } from '../strategy.js';

function specFinalizers(obj: KubeObject): string[] | undefined {
  return (fieldsOf(obj).spec as { finalizers?: string[] } | undefined)?.finalizers;
}

function withSpecFinalizers(obj: KubeObject, finalizers: string[]): void {
  const spec = fieldsOf(obj).spec;
  fieldsOf(obj).spec = { ...(isObject(spec) ? spec : {}), finalizers };
}

export function namespaceStrategy(info: ResourceInfo): Strategy {
  const base = genericStrategy(info);
  const canRemove = (obj: KubeObject): boolean => {
    const md = obj.metadata ?? {};
    return !!md.deletionTimestamp && (md.finalizers?.length ?? 0) === 0 && (specFinalizers(obj)?.length ?? 0) === 0;
  };
  return {
    ...base,
    selectableFields: [...base.selectableFields, 'status.phase'],
    prepareForCreate(obj) {
      fieldsOf(obj).status = { phase: 'Active' };
      // The namespace lifecycle finalizer (PrepareForCreate).
      withSpecFinalizers(obj, ['kubernetes']);
    },
    prepareForUpdate(next, old) {
      base.prepareForUpdate(next, old);
      // spec.finalizers changes only through the finalize subresource.
      withSpecFinalizers(next, specFinalizers(old) ?? []);
    },
    canRemove,
    deletion(cur, _opts, now) {
      if (cur.metadata?.deletionTimestamp) return canRemove(cur) ? { kind: 'remove' } : { kind: 'unchanged' };
      const ns = copyOf(cur) as Namespace;
      ns.metadata = { ...ns.metadata, deletionTimestamp: rfc3339(now), deletionGracePeriodSeconds: 0 };
      ns.status = { ...ns.status, phase: 'Terminating' };
      return canRemove(ns) ? { kind: 'remove' } : { kind: 'mark', obj: ns };
    },
    finalize(cur, input) {
      const next = copyOf(cur);
      withSpecFinalizers(next, specFinalizers(input) ?? []);
      return next;
    },
  };
}

/**
 * Admission of a write, in Kubernetes' order: the NamespaceLifecycle plugin (a create needs an
 * existing namespace that is not terminating), the mutating admission plugins the API core was
 * given (`AdmissionPlugin`: e.g. ServiceAccount, src/apiserver/admission/), then defaulting and
 * validation (semantics/). Pure apart from reading the watch caches.
 */
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { ApiError, invalid, notFound } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { R, type ResourceInfo } from '../../api/resources.js';
import { applyDefaults } from '../semantics/defaults.js';
import { validateDefaulted } from '../semantics/validation.js';
import type { WatchCache, WatchCaches } from './watchcache.js';

/** What a mutating admission plugin is told about a create. */
export interface AdmissionContext {
  namespace: string | undefined;
  /** The object's name ('' when it will be generated). */
  name: string;
  dryRun: boolean;
  /** The watch cache of any served resource (read-only use). */
  cache(info: ResourceInfo): WatchCache;
}

/** A mutating admission plugin (admission.MutationInterface), run on creates of the kinds it handles. */
export interface AdmissionPlugin {
  readonly name: string;
  handles(info: ResourceInfo): boolean;
  /** Mutates `obj` (the store's private copy) or throws an ApiError (403 with the plugin's reason). */
  admit(obj: KubeObject, ctx: AdmissionContext): void | Promise<void>;
}

/** 404 when namespace `ns` does not exist, 403 when it is being terminated. */
export function admitNamespace(caches: WatchCaches, info: ResourceInfo, ns: string, name: string): void {
  const nsObj = caches.of(R.namespaces).objects.get(ns)?.obj as Namespace | undefined;
  if (!nsObj) throw notFound(R.namespaces, ns);
  if (nsObj.metadata?.deletionTimestamp || nsObj.status?.phase === 'Terminating') {
    const q = info.group ? `${info.plural}.${info.group}` : info.plural;
    throw new ApiError(403, 'Forbidden', `${q} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      { name, group: info.group || undefined, kind: info.plural, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }] });
  }
}

/** Defaults `obj` in place, then validates it (against `old` for an update): 422 with every field error. */
export function admitObject(info: ResourceInfo, obj: KubeObject, old?: KubeObject): void {
  applyDefaults(info, obj);
  const errs = validateDefaulted(info, obj, old);
  if (errs.length) throw invalid(info.kind, info.group, obj.metadata?.name ?? '', errs);
}

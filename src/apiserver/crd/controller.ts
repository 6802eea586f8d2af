/**
 * What apiextensions-apiserver's controllers do inside kube-apiserver, for every CRD:
 *
 * - naming: the names a CRD asks for are accepted unless another CRD of its group already uses
 *   that plural (or kind) — `NamesAccepted` True/False with Kubernetes' reasons;
 * - establishing: a CRD whose names are accepted is served — its versions join the catalog
 *   (routing, discovery, OpenAPI, printing) and its resource gets a watch cache and a strategy from
 *   the storage version's schema — and is marked `Established`;
 * - finalizing: a deleted CRD (`customresourcecleanup.apiextensions.k8s.io` finalizer, `Terminating`
 *   condition) has every object of its resource deleted; then the finalizer is removed, the CRD
 *   leaves storage and its resource is no longer served.
 *
 * Driven by the CRD watch cache; each CRD name is reconciled by a keyed queue. Pure decisions
 * (`servedVersions`, `namingConditions`) are separate from the writes.
 */
import type { CustomResourceDefinition, CustomResourceDefinitionCondition } from 'kubernetes-types/apiextensions/v1.js';
import { isConflict, isNotFound } from '../../api/errors.js';
import { deepCopy, type KubeObject } from '../../api/object.js';
import { R, type ResourceInfo } from '../../api/resources.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { CustomResourceVersion, ResourceCatalog } from '../catalog.js';
import { rfc3339 } from '../registry/meta.js';
import type { Registry } from '../registry/registry.js';
import { customResourceStrategy } from './strategy.js';

/** The finalizer that keeps a deleted CRD until its objects are gone. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/** The served versions of a CRD as catalog entries (storage version's info carries no storageVersion). */
export function servedVersions(crd: CustomResourceDefinition): CustomResourceVersion[] {
  const spec = crd.spec;
  const names = crd.status?.acceptedNames?.plural ? crd.status.acceptedNames : spec.names;
  const storage = spec.versions.find((v) => v.storage)?.name ?? spec.versions[0]?.name ?? '';
  return spec.versions.filter((v) => v.served).map((v) => {
    const subresources = [...(v.subresources?.status ? ['status'] : []), ...(v.subresources?.scale ? ['scale'] : [])];
    const info: ResourceInfo = {
      group: spec.group, version: v.name, kind: names.kind, listKind: names.listKind ?? `${names.kind}List`,
      plural: names.plural, singular: names.singular ?? names.kind.toLowerCase(), namespaced: spec.scope === 'Namespaced',
      shortNames: names.shortNames ?? [], categories: names.categories ?? [], subresources,
      ...(v.name !== storage ? { storageVersion: storage } : {}),
    };
    return {
      info, crdName: crd.metadata?.name ?? '', schema: v.schema?.openAPIV3Schema,
      columns: v.additionalPrinterColumns ?? [], status: !!v.subresources?.status,
      ...(v.subresources?.scale ? { scale: v.subresources.scale } : {}),
      storage: v.name === storage,
      ...(v.deprecated ? { deprecationWarning: v.deprecationWarning ?? `${spec.group}/${v.name} ${names.kind} is deprecated` } : {}),
    };
  });
}

/** NamesAccepted for `crd` given every other CRD: a plural or kind another CRD of the group uses is a conflict. */
export function namingConditions(crd: CustomResourceDefinition, others: readonly CustomResourceDefinition[]): { accepted: boolean; reason: string; message: string } {
  const { group, names } = crd.spec;
  for (const o of others) {
    if (o.metadata?.name === crd.metadata?.name || o.spec?.group !== group) continue;
    const taken = o.status?.acceptedNames;
    if (!taken?.plural) continue;
    if (taken.plural === names.plural || (taken.shortNames ?? []).includes(names.plural)) {
      return { accepted: false, reason: 'PluralConflict', message: `"${names.plural}" is already in use` };
    }
    if (taken.kind === names.kind) return { accepted: false, reason: 'KindConflict', message: `"${names.kind}" is already in use` };
  }
  return { accepted: true, reason: 'NoConflicts', message: 'no conflicts found' };
}

function setCondition(conds: CustomResourceDefinitionCondition[], c: Omit<CustomResourceDefinitionCondition, 'lastTransitionTime'>, now: Date): CustomResourceDefinitionCondition[] {
  const old = conds.find((x) => x.type === c.type);
  const next = { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : rfc3339(now) };
  return [...conds.filter((x) => x.type !== c.type), next];
}

export class CrdController {
  private readonly queue: WorkQueue;
  /** What is installed per CRD name: its storage info (for uninstall) and the versions served. */
  private readonly served = new Map<string, { storage: ResourceInfo; fingerprint: string }>();
  private unsubscribe?: () => void;

  constructor(private readonly registry: Registry, private readonly catalog: ResourceCatalog, private readonly clock: () => Date = () => new Date()) {
    this.queue = new WorkQueue((k) => this.sync(k), { workers: 1, baseDelayMs: 50, maxDelayMs: 5000 });
  }

  /** Serves every stored CRD now (so custom resources are there as soon as the API server is), then follows changes. */
  async start(): Promise<void> {
    const cache = this.registry.cache(R.customresourcedefinitions);
    this.unsubscribe = cache.subscribe((ev) => this.queue.add(ev.cur.obj.metadata?.name ?? ''));
    const names = [...cache.objects.values()].map((c) => c.obj.metadata?.name ?? '');
    for (const n of names) await this.sync(n).catch((e: unknown) => { console.error(`crd ${n}:`, e); this.queue.add(n); });
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  /** Resolves when no CRD is waiting to be reconciled (tests). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  private async sync(name: string): Promise<void> {
    const cached = this.registry.cache(R.customresourcedefinitions).get(undefined, name);
    if (!cached) { this.unserve(name); return; }
    const crd = cached.obj as CustomResourceDefinition;
    const all = [...this.registry.cache(R.customresourcedefinitions).objects.values()].map((c) => c.obj as CustomResourceDefinition);
    const naming = namingConditions(crd, all);
    const now = this.clock();

    if (naming.accepted) await this.serve(crd);

    if (crd.metadata?.deletionTimestamp) {
      if (await this.finalize(crd)) return;
    }

    // Status: accepted names and conditions.
    let conds = [...(crd.status?.conditions ?? [])];
    conds = setCondition(conds, { type: 'NamesAccepted', status: naming.accepted ? 'True' : 'False', reason: naming.reason, message: naming.message }, now);
    if (naming.accepted) {
      conds = setCondition(conds, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }, now);
    } else if (!conds.some((c) => c.type === 'Established' && c.status === 'True')) {
      conds = setCondition(conds, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' }, now);
    }
    if (crd.metadata?.deletionTimestamp) {
      conds = setCondition(conds, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }, now);
    }
    const order = ['NamesAccepted', 'Established', 'Terminating'];
    conds.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
    const status = {
      ...crd.status,
      acceptedNames: naming.accepted ? { ...crd.spec.names } : crd.status?.acceptedNames ?? { plural: '', kind: '' },
      conditions: conds,
      storedVersions: crd.status?.storedVersions ?? [],
    };
    if (JSON.stringify(status) === JSON.stringify(crd.status)) return;
    const next = { ...deepCopy(crd), status } as CustomResourceDefinition;
    try {
      await this.registry.update(R.customresourcedefinitions, undefined, next as KubeObject, { subresource: 'status' });
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) { this.queue.add(name); return; }
      throw e;
    }
  }

  /** Installs (or re-installs after a change) the CRD's served versions. */
  private async serve(crd: CustomResourceDefinition): Promise<void> {
    const name = crd.metadata?.name ?? '';
    const versions = servedVersions(crd);
    const fingerprint = JSON.stringify([crd.spec, crd.status?.acceptedNames]);
    const prev = this.served.get(name);
    if (prev?.fingerprint === fingerprint) return;
    const storageVersion = versions.find((v) => v.storage) ?? servedVersions({ ...crd, spec: { ...crd.spec, versions: crd.spec.versions.map((v) => ({ ...v, served: true })) } }).find((v) => v.storage);
    if (!storageVersion) return;
    if (prev && (prev.storage.plural !== storageVersion.info.plural || prev.storage.group !== storageVersion.info.group)) this.registry.uninstall(prev.storage);
    await this.registry.install(storageVersion.info, customResourceStrategy(storageVersion.info, storageVersion));
    this.served.set(name, { storage: storageVersion.info, fingerprint });
    this.catalog.setCustom(name, versions);
  }

  private unserve(name: string): void {
    const prev = this.served.get(name);
    if (!prev) return;
    this.served.delete(name);
    this.catalog.removeCustom(name);
    this.registry.uninstall(prev.storage);
  }

  /**
   * Deletes every object of a deleted CRD's resource; once none is left, removes the cleanup
   * finalizer (the CRD then leaves storage). Returns true when the CRD is gone or still waiting.
   */
  private async finalize(crd: CustomResourceDefinition): Promise<boolean> {
    const name = crd.metadata?.name ?? '';
    if (!(crd.metadata?.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return false;
    const storage = this.served.get(name)?.storage;
    if (storage) {
      const left = this.registry.cache(storage).objects.size;
      if (left > 0) {
        await this.registry.deleteCollection(storage, undefined, {}, { propagationPolicy: 'Background' });
        if (this.registry.cache(storage).objects.size > 0) { this.queue.addAfter(name, 100); return false; }
      }
    }
    const next = deepCopy(crd) as CustomResourceDefinition;
    next.metadata!.finalizers = (next.metadata!.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    try {
      await this.registry.update(R.customresourcedefinitions, undefined, next as KubeObject);
    } catch (e) {
      if (isNotFound(e)) { this.unserve(name); return true; }
      if (isConflict(e)) { this.queue.add(name); return true; }
      throw e;
    }
    return !this.registry.cache(R.customresourcedefinitions).get(undefined, name) ? (this.unserve(name), true) : false;
  }
}

/**
 * The resources this API server serves right now: the built-in catalog (src/api/resources.ts) plus
 * the custom resources of every established CustomResourceDefinition. Routing, discovery, OpenAPI,
 * Table printing and the registry all ask this one object, so a CRD that is created or deleted
 * changes what every one of them serves at the same moment.
 *
 * `generation` grows with every change; documents derived from the catalog (discovery, OpenAPI)
 * are cached per generation.
 */
import type { CustomResourceColumnDefinition, CustomResourceSubresourceScale, JSONSchemaProps } from 'kubernetes-types/apiextensions/v1.js';
import { ALL_RESOURCES, groupVersion, type ResourceInfo } from '../api/resources.js';

/** One served version of a custom resource, with what its CRD says about it. */
export interface CustomResourceVersion {
  readonly info: ResourceInfo;
  /** metadata.name of the CRD (`<plural>.<group>`). */
  readonly crdName: string;
  /** The version's structural schema (openAPIV3Schema); absent only for CRDs without one. */
  readonly schema?: JSONSchemaProps;
  /** additionalPrinterColumns (kubectl get columns). */
  readonly columns: readonly CustomResourceColumnDefinition[];
  /** The status subresource is enabled. */
  readonly status: boolean;
  /** The scale subresource's paths, when enabled. */
  readonly scale?: CustomResourceSubresourceScale;
  /** Objects of the custom resource are stored at this version. */
  readonly storage: boolean;
  /** Version marked deprecated (a Warning on every request). */
  readonly deprecationWarning?: string;
}

export class ResourceCatalog {
  private readonly custom = new Map<string, readonly CustomResourceVersion[]>();
  private readonly byInfo = new Map<ResourceInfo, CustomResourceVersion>();
  private readonly listeners = new Set<() => void>();
  private allCache: readonly ResourceInfo[] = ALL_RESOURCES;
  private gen = 0;

  /** Grows with every change of the served set. */
  get generation(): number {
    return this.gen;
  }

  /** Every served resource: built-ins first (catalog order), then custom resources by CRD name. */
  all(): readonly ResourceInfo[] {
    return this.allCache;
  }

  /** The served resource of a URL (group, version, plural); undefined when none. */
  lookup(group: string, version: string, plural: string): ResourceInfo | undefined {
    for (const r of this.allCache) if (r.plural === plural && r.group === group && r.version === version) return r;
    return undefined;
  }

  /** The served resource of an object's apiVersion and kind; undefined when none. */
  byKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.allCache.find((r) => r.kind === kind && groupVersion(r) === apiVersion);
  }

  /** What the CRD says about a custom resource version; undefined for built-ins. */
  customOf(info: ResourceInfo): CustomResourceVersion | undefined {
    return this.byInfo.get(info) ?? (info.group ? this.lookupCustom(info) : undefined);
  }

  private lookupCustom(info: ResourceInfo): CustomResourceVersion | undefined {
    const r = this.lookup(info.group, info.version, info.plural);
    return r ? this.byInfo.get(r) : undefined;
  }

  /** Every served version of the custom resource `group/plural`. */
  versionsOf(group: string, plural: string): readonly CustomResourceVersion[] {
    for (const vs of this.custom.values()) if (vs[0]?.info.group === group && vs[0]?.info.plural === plural) return vs;
    return [];
  }

  /** Serves (or replaces) the versions of one CRD. */
  setCustom(crdName: string, versions: readonly CustomResourceVersion[]): void {
    this.custom.set(crdName, versions);
    this.changed();
  }

  /** Stops serving one CRD's resources. */
  removeCustom(crdName: string): void {
    if (this.custom.delete(crdName)) this.changed();
  }

  /** Called after every change (synchronously). Returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.byInfo.clear();
    const customInfos: ResourceInfo[] = [];
    for (const name of [...this.custom.keys()].sort()) {
      for (const v of this.custom.get(name)!) {
        this.byInfo.set(v.info, v);
        customInfos.push(v.info);
      }
    }
    this.allCache = [...ALL_RESOURCES, ...customInfos];
    this.gen++;
    for (const l of [...this.listeners]) {
      try { l(); } catch (e) { console.error('resource catalog listener failed:', e); }
    }
  }
}

/** A catalog of the built-in resources alone (tests and tools that serve no CRDs). */
export const BUILTIN_CATALOG = new ResourceCatalog();

/**
 * The seams through which other components plug into the HTTP front door without this folder
 * importing them directly: discovery/OpenAPI documents and server-side Table printing. The server
 * falls back to minimal built-ins (fallback.ts) for whatever is not supplied.
 */
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';

/** A complete answer to a non-resource GET (discovery, OpenAPI). */
export interface NonResourceAnswer {
  status?: number;
  /** Exact Content-Type header (aggregated discovery needs its own media type). */
  contentType: string;
  body: string | Buffer;
}

/** A meta.k8s.io/v1 Table (only what the server relies on). */
export interface Table {
  apiVersion: 'meta.k8s.io/v1';
  kind: 'Table';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: { name: string; type: string; format: string; description: string; priority: number }[];
  rows: { cells: unknown[]; object: unknown }[];
}

/** Options passed to a Table converter. */
export interface TableOptions {
  /** Omit columnDefinitions (watch events after the first; `includeObject` etc. unchanged). */
  noColumns?: boolean;
  /** The list's metadata (resourceVersion, continue), copied onto the Table. */
  listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** `includeObject` query parameter: what each row's `object` holds (default Metadata). */
  includeObject?: 'Metadata' | 'Object' | 'None';
  /** Clock for AGE columns; default Date.now. */
  now?: () => number;
}

/** Pluggable parts of the front door. */
export interface ServerExtensions {
  /**
   * Answers GET of a non-resource path (/api, /apis, /api/v1, /apis/<g>[/<v>], /openapi/v2,
   * /openapi/v3[/...]). Returns undefined when the path is not one it serves (→ 404).
   */
  nonResource?(path: string, query: URLSearchParams, accept: string | undefined): NonResourceAnswer | undefined | Promise<NonResourceAnswer | undefined>;
  /** Converts objects of one resource to a Table (kubectl get). */
  toTable?(res: ResourceInfo, objs: KubeObject[], opts: TableOptions): Table;
  /**
   * Paths of fields the schema of `res` does not know (`spec.portz`), for fieldValidation
   * Strict (400) and Warn (a Warning header). Patch directives (`$patch`, `$setElementOrder/...`)
   * are not fields and must be ignored by the caller.
   */
  unknownFields?(res: ResourceInfo, obj: unknown): string[];
  /**
   * The resource a URL names (built-ins and the custom resources of established CRDs); absent: the
   * built-in catalog only.
   */
  resourceFor?(group: string, version: string, plural: string): ResourceInfo | undefined;
}

/**
 * Shapes a response body as the client asked (negotiate.ts): the object itself, a Table, or
 * PartialObjectMetadata(List). Tables come from the printers' converter when installed; otherwise a
 * minimal NAME/AGE table (what kube prints for resources without a printer).
 */
import type { KubeList, KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { ResponseShape } from './negotiate.js';
import type { ServerExtensions, Table, TableOptions } from './extensions.js';

/** Object metadata as `PartialObjectMetadata` (what Table rows carry as `object`). */
export function partialMetadata(obj: KubeObject): KubeObject {
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: obj.metadata ?? {} };
}

/** Go's duration.HumanDuration-style age ("5s", "3m", "2d"), as kube's default table prints it. */
export function humanAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60); if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60); if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24); if (d < 8) return `${d}d${h % 24 ? `${h % 24}h` : ''}`;
  return `${d}d`;
}

/** The default Table: NAME, CREATED AT-style AGE; used when no printer is installed. */
export function defaultTable(_res: ResourceInfo, objs: KubeObject[], opts: TableOptions): Table {
  const now = (opts.now ?? Date.now)();
  return {
    apiVersion: 'meta.k8s.io/v1', kind: 'Table', metadata: { ...opts.listMeta },
    columnDefinitions: opts.noColumns ? [] : [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      { name: 'Age', type: 'string', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
    ],
    rows: objs.map((o) => {
      const ts = o.metadata?.creationTimestamp;
      const object = opts.includeObject === 'Object' ? o : opts.includeObject === 'None' ? undefined : partialMetadata(o);
      return { cells: [o.metadata?.name ?? '', ts ? humanAge(now - Date.parse(ts)) : '<unknown>'], object };
    }),
  };
}

/** Converts via the installed printer or the default. */
export function toTable(ext: ServerExtensions, res: ResourceInfo, objs: KubeObject[], opts: TableOptions): Table {
  const t = (ext.toTable ?? defaultTable)(res, objs, opts);
  if (opts.noColumns) t.columnDefinitions = [];
  return t;
}

/** Reads the `includeObject` query parameter (Kubernetes' default: Metadata). */
export function includeObjectParam(q: URLSearchParams | undefined): TableOptions['includeObject'] {
  const v = q?.get('includeObject');
  return v === 'Object' || v === 'None' || v === 'Metadata' ? v : undefined;
}

/** Shapes a single object. */
export function shapeObject(ext: ServerExtensions, shape: ResponseShape, res: ResourceInfo, obj: KubeObject, q?: URLSearchParams): unknown {
  if (shape === 'Table') return toTable(ext, res, [obj], { listMeta: { resourceVersion: obj.metadata?.resourceVersion }, includeObject: includeObjectParam(q) });
  if (shape === 'PartialObjectMetadata' || shape === 'PartialObjectMetadataList') return partialMetadata(obj);
  return obj;
}

/** Shapes a list. */
export function shapeList(ext: ServerExtensions, shape: ResponseShape, res: ResourceInfo, list: KubeList, q?: URLSearchParams): unknown {
  if (shape === 'Table') return toTable(ext, res, list.items, { listMeta: list.metadata, includeObject: includeObjectParam(q) });
  if (shape === 'PartialObjectMetadataList' || shape === 'PartialObjectMetadata') {
    return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadataList', metadata: list.metadata, items: list.items.map(partialMetadata) };
  }
  return list;
}

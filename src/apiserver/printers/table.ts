/**
 * Server-side printing: objects of one resource → a meta.k8s.io/v1 Table (what `kubectl get` asks for
 * with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`). Columns and cells follow Kubernetes'
 * printers.go for every kind the catalog serves; anything else gets kube-apiserver's default table
 * (NAME, CREATED AT). Cells always include the wide (priority ≥ 1) columns: kubectl decides what to show.
 */
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { CustomResourceVersion } from '../catalog.js';
import { customPrinter } from './custom.js';
import { clusterRoleBindingPrinter, roleBindingPrinter, secretPrinter, serviceAccountPrinter } from './auth.js';
import { endpointSlicePrinter, endpointsPrinter } from './endpoints.js';
import { namespacePrinter, nodePrinter } from './cluster.js';
import { configMapPrinter } from './configmaps.js';
import { eventPrinter } from './events.js';
import { leasePrinter } from './leases.js';
import { podPrinter } from './pod.js';
import { col, doc, NAME_COLUMN, type ColumnDefinition, type Printer, type RowCondition } from './printer.js';
import { servicePrinter } from './service.js';
import { daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from './workloads.js';
import { cronJobPrinter, jobPrinter } from './batch.js';
import { hpaPrinter, networkPolicyPrinter, pdbPrinter } from './policy.js';

/** `includeObject` query parameter: what each row's `object` holds (Kubernetes' default: Metadata). */
export type IncludeObject = 'Metadata' | 'Object' | 'None';

/** Options of `toTable`; all optional. */
export interface ToTableOptions {
  /** Clock for AGE cells (ms since epoch, or a function returning it). Default: Date.now(). */
  now?: number | (() => number);
  /** Row objects: PartialObjectMetadata (default), the full object, or none. */
  includeObject?: IncludeObject;
  /** Omit columnDefinitions (watch events after the first carry rows only). */
  noColumns?: boolean;
  /** List metadata (resourceVersion, continue, remainingItemCount) copied onto the Table. */
  listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** The CRD version of a custom resource: its additionalPrinterColumns are the columns. */
  custom?: CustomResourceVersion;
}

/** A meta.k8s.io/v1 Table. */
export interface Table {
  apiVersion: 'meta.k8s.io/v1';
  kind: 'Table';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: ColumnDefinition[];
  rows: { cells: unknown[]; object: unknown; conditions?: RowCondition[] }[];
}

/** Printers by "group/plural". */
const PRINTERS: Record<string, Printer<never>> = {
  '/pods': podPrinter,
  '/services': servicePrinter,
  '/endpoints': endpointsPrinter,
  '/namespaces': namespacePrinter,
  '/nodes': nodePrinter,
  '/events': eventPrinter,
  '/configmaps': configMapPrinter,
  'apps/deployments': deploymentPrinter,
  'apps/replicasets': replicaSetPrinter,
  'apps/statefulsets': statefulSetPrinter,
  'discovery.k8s.io/endpointslices': endpointSlicePrinter,
  'coordination.k8s.io/leases': leasePrinter,
  'apps/daemonsets': daemonSetPrinter,
  'batch/jobs': jobPrinter,
  'batch/cronjobs': cronJobPrinter,
  'policy/poddisruptionbudgets': pdbPrinter,
  'autoscaling/horizontalpodautoscalers': hpaPrinter,
  'networking.k8s.io/networkpolicies': networkPolicyPrinter,
  '/secrets': secretPrinter,
  '/serviceaccounts': serviceAccountPrinter,
  'rbac.authorization.k8s.io/rolebindings': roleBindingPrinter,
  'rbac.authorization.k8s.io/clusterrolebindings': clusterRoleBindingPrinter,
};

/** kube-apiserver's DefaultTableConvertor: NAME and CREATED AT (the creation timestamp itself). */
export const defaultPrinter: Printer<KubeObject> = {
  columns: [NAME_COLUMN, col('Created At', 'date', doc('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'creationTimestamp'))],
  row: (o) => ({ cells: [o.metadata?.name ?? '', o.metadata?.creationTimestamp ?? ''] }),
};

/** The printer for a resource (the default printer when it has none of its own). */
export function printerFor(info: ResourceInfo): Printer<KubeObject> {
  return (PRINTERS[`${info.group}/${info.plural}`] as Printer<KubeObject> | undefined) ?? defaultPrinter;
}

const customPrinters = new WeakMap<CustomResourceVersion, Printer<KubeObject>>();

/** The printer of a custom resource version (made once per CRD version). */
function customPrinterOf(cv: CustomResourceVersion): Printer<KubeObject> {
  let p = customPrinters.get(cv);
  if (!p) customPrinters.set(cv, p = customPrinter(cv.columns));
  return p;
}

/** Row `object` as Kubernetes sends it: PartialObjectMetadata unless includeObject says otherwise. */
function rowObject(o: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata ?? {} };
}

/**
 * Converts `objects` (all of resource `info`) to a Table with Kubernetes' columns for that kind.
 * Pure: the objects are not modified; the clock comes from `opts.now`.
 */
export function toTable(info: ResourceInfo, objects: readonly KubeObject[], opts: ToTableOptions = {}): Table {
  const now = typeof opts.now === 'function' ? opts.now() : opts.now ?? Date.now();
  const include = opts.includeObject ?? 'Metadata';
  const printer = opts.custom ? customPrinterOf(opts.custom) : printerFor(info);
  const rows = objects.map((o) => {
    const r = printer.row(o, now);
    const row: Table['rows'][number] = { cells: r.cells, object: rowObject(o, include) };
    if (r.conditions) row.conditions = r.conditions;
    return row;
  });
  return {
    apiVersion: 'meta.k8s.io/v1', kind: 'Table', metadata: { ...opts.listMeta },
    columnDefinitions: opts.noColumns ? [] : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}

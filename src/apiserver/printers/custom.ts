/**
 * Custom resources: the columns of their CRD's `additionalPrinterColumns` (kube-apiserver's
 * tableconvertor for CRDs): NAME first, then each column's JSONPath evaluated on the object, AGE by
 * default when no columns are given. Cells are typed as the column says (integer, number, boolean,
 * date → age, string); a path that finds nothing prints as empty (`<none>` in kubectl).
 * The JSONPath evaluation is jsonpath-plus (Kubernetes' paths start at the object: `.spec.replicas`).
 */
import type { CustomResourceColumnDefinition } from 'kubernetes-types/apiextensions/v1.js';
import { JSONPath } from 'jsonpath-plus';
import type { KubeObject } from '../../api/object.js';
import { ageSince } from './duration.js';
import { AGE_COLUMN, col, NAME_COLUMN, type ColumnDefinition, type Printer } from './printer.js';

/** Kubernetes' relaxed JSONPath (`.spec.x`, `{.spec.x}`) as jsonpath-plus reads it (`$.spec.x`). */
function normalize(p: string): string {
  let q = p.trim();
  if (q.startsWith('{') && q.endsWith('}')) q = q.slice(1, -1);
  if (q.startsWith('$')) return q;
  return q.startsWith('.') || q.startsWith('[') ? `$${q}` : `$.${q}`;
}

function cell(c: CustomResourceColumnDefinition, values: unknown[], now: number): unknown {
  if (values.length === 0 || values[0] === undefined || values[0] === null) return null;
  const v = values[0];
  switch (c.type) {
    case 'date': return typeof v === 'string' ? ageSince(v, now) : null;
    case 'integer': return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number': return typeof v === 'number' ? v : null;
    case 'boolean': return typeof v === 'boolean' ? v : null;
    default:
      return values.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
  }
}

/** The printer of one custom resource version. */
export function customPrinter(columns: readonly CustomResourceColumnDefinition[]): Printer<KubeObject> {
  const cols = columns.length ? columns : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
  const defs: ColumnDefinition[] = [NAME_COLUMN, ...cols.map((c) => (c.name === 'Age' && c.type === 'date' && !c.description
    ? AGE_COLUMN : col(c.name, c.type === 'date' ? 'date' : c.type, c.description ?? '', c.priority ?? 0, c.format ?? '')))];
  const paths = cols.map((c) => normalize(c.jsonPath));
  return {
    columns: defs,
    row(o, now) {
      const cells: unknown[] = [o.metadata?.name ?? ''];
      cols.forEach((c, i) => {
        let values: unknown[] = [];
        try { values = JSONPath({ path: paths[i]!, json: o as object, wrap: true }) as unknown[]; } catch { values = []; }
        cells.push(cell(c, values, now));
      });
      return { cells };
    },
  };
}

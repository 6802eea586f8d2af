/**
 * What one kind's printer is: its column definitions (as printers.go declares them) and a pure row
 * function. Table assembly (metadata, row objects, includeObject) lives in table.ts.
 */
import { resolveSchema, SCHEMAS } from '../openapi/schemas.js';

/** A meta.k8s.io/v1 TableColumnDefinition. */
export interface ColumnDefinition { name: string; type: string; format: string; description: string; priority: number }

/** A meta.k8s.io/v1 TableRowCondition (Completed pods carry one). */
export interface RowCondition { type: string; status: string; reason?: string; message?: string }

/** One printed row before the object is attached. */
export interface PrintedRow { cells: unknown[]; conditions?: RowCondition[] }

/** A kind's printer: all columns (the server always prints wide; kubectl hides priority ≥ 1). */
export interface Printer<T = unknown> {
  readonly columns: readonly ColumnDefinition[];
  row(obj: T, now: number): PrintedRow;
}

/**
 * The field documentation Kubernetes uses as a column description (`SwaggerDoc()[field]`), read from
 * the same schemas /openapi serves: `doc('io.k8s.api.core.v1.ServiceSpec', 'type')`. '' when unknown.
 */
export function doc(definition: string, field: string): string {
  const p = SCHEMAS[definition]?.properties?.[field];
  return p ? (p.description ?? resolveSchema(p).description ?? '') : '';
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** Builds a column; `priority` 1 marks a `-o wide` column. */
export function col(name: string, type: string, description: string, priority = 0, format = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

/** The Name column every printer starts with. */
export const NAME_COLUMN: ColumnDefinition = col('Name', 'string', doc(META, 'name'), 0, 'name');
/** The Age column (creationTimestamp). */
export const AGE_COLUMN: ColumnDefinition = col('Age', 'string', doc(META, 'creationTimestamp'));

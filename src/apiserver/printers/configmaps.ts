/** `kubectl get configmaps`: NAME DATA AGE. */
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { ageSince } from './duration.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';

/** Printer for core/v1 ConfigMap. */
export const configMapPrinter: Printer<ConfigMap> = {
  columns: [NAME_COLUMN, col('Data', 'integer', doc('io.k8s.api.core.v1.ConfigMap', 'data')), AGE_COLUMN],
  row: (cm, now) => ({
    cells: [cm.metadata?.name ?? '', Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, ageSince(cm.metadata?.creationTimestamp, now)],
  }),
};

/** `kubectl get leases`: NAME HOLDER AGE. */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ageSince } from './duration.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';

/** Printer for coordination.k8s.io/v1 Lease. */
export const leasePrinter: Printer<Lease> = {
  columns: [NAME_COLUMN, col('Holder', 'string', doc('io.k8s.api.coordination.v1.LeaseSpec', 'holderIdentity')), AGE_COLUMN],
  row: (l, now) => ({ cells: [l.metadata?.name ?? '', l.spec?.holderIdentity ?? '', ageSince(l.metadata?.creationTimestamp, now)] }),
};

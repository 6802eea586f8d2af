/** `kubectl get events`: LAST SEEN TYPE REASON OBJECT MESSAGE (wide: SUBOBJECT SOURCE FIRST SEEN COUNT NAME). */
import type { Event, EventSource } from 'kubernetes-types/core/v1.js';
import { ageSince } from './duration.js';
import { col, doc, type Printer } from './printer.js';

const EV = 'io.k8s.api.core.v1.Event';

/** printers.go formatEventSource: `component, host`, else reportingController(, reportingInstance). */
export function formatEventSource(src: EventSource | undefined, controller?: string, instance?: string): string {
  const component = src?.component || controller || '';
  const host = src?.component ? src.host : instance;
  return host ? `${component}, ${host}` : component;
}

/** Printer for core/v1 Event. */
export const eventPrinter: Printer<Event> = {
  columns: [
    col('Last Seen', 'string', doc(EV, 'lastTimestamp')),
    col('Type', 'string', doc(EV, 'type')),
    col('Reason', 'string', doc(EV, 'reason')),
    col('Object', 'string', doc(EV, 'involvedObject')),
    col('Subobject', 'string', doc('io.k8s.api.core.v1.ObjectReference', 'fieldPath'), 1),
    col('Source', 'string', doc(EV, 'source'), 1),
    col('Message', 'string', doc(EV, 'message')),
    col('First Seen', 'string', doc(EV, 'firstTimestamp'), 1),
    col('Count', 'string', doc(EV, 'count'), 1),
    col('Name', 'string', doc('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'name'), 1, 'name'),
  ],
  row(e, now) {
    const first = e.firstTimestamp ? ageSince(e.firstTimestamp, now) : ageSince(e.eventTime, now);
    let last = e.lastTimestamp ? ageSince(e.lastTimestamp, now) : first;
    let count = e.count ?? 0;
    if (e.series) { last = ageSince(e.series.lastObservedTime, now); count = e.series.count ?? 0; } else if (count === 0) count = 1;
    const io = e.involvedObject ?? {};
    const target = io.name ? `${(io.kind ?? '').toLowerCase()}/${io.name}` : (io.kind ?? '').toLowerCase();
    return {
      cells: [last, e.type ?? '', e.reason ?? '', target, io.fieldPath ?? '', formatEventSource(e.source, e.reportingComponent, e.reportingInstance),
        (e.message ?? '').trim(), first, count, e.metadata?.name ?? ''],
    };
  },
};

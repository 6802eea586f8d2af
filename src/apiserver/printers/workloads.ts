/**
 * `kubectl get deployments|replicasets|statefulsets`, with CONTAINERS IMAGES (SELECTOR) on -o wide.
 */
import type { Container } from 'kubernetes-types/core/v1.js';
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { ageSince } from './duration.js';
import { formatLabels, formatLabelSelector } from './labels.js';
import { AGE_COLUMN, col, doc, NAME_COLUMN, type Printer } from './printer.js';

/** printers.go layoutContainerCells: container names and images, comma-separated. */
export function containerCells(containers: readonly Container[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

const CONTAINERS = col('Containers', 'string', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'string', 'Images referenced by each container in the template.', 1);

/** Printer for apps/v1 Deployment: NAME READY UP-TO-DATE AVAILABLE AGE. */
export const deploymentPrinter: Printer<Deployment> = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'integer', doc('io.k8s.api.apps.v1.DeploymentStatus', 'updatedReplicas')),
    col('Available', 'integer', doc('io.k8s.api.apps.v1.DeploymentStatus', 'availableReplicas')),
    AGE_COLUMN, CONTAINERS, IMAGES,
    col('Selector', 'string', doc('io.k8s.api.apps.v1.DeploymentSpec', 'selector'), 1),
  ],
  row(d, now) {
    const st = d.status ?? {};
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return {
      cells: [d.metadata?.name ?? '', `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0,
        ageSince(d.metadata?.creationTimestamp, now), names, images, formatLabelSelector(d.spec?.selector)],
    };
  },
};

/** Printer for apps/v1 ReplicaSet: NAME DESIRED CURRENT READY AGE. */
export const replicaSetPrinter: Printer<ReplicaSet> = {
  columns: [
    NAME_COLUMN,
    col('Desired', 'integer', doc('io.k8s.api.apps.v1.ReplicaSetSpec', 'replicas')),
    col('Current', 'integer', doc('io.k8s.api.apps.v1.ReplicaSetStatus', 'replicas')),
    col('Ready', 'integer', doc('io.k8s.api.apps.v1.ReplicaSetStatus', 'readyReplicas')),
    AGE_COLUMN, CONTAINERS, IMAGES,
    col('Selector', 'string', doc('io.k8s.api.apps.v1.ReplicaSetSpec', 'selector'), 1),
  ],
  row(rs, now) {
    const st = rs.status ?? { replicas: 0 };
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return {
      cells: [rs.metadata?.name ?? '', rs.spec?.replicas ?? 0, st.replicas ?? 0, st.readyReplicas ?? 0,
        ageSince(rs.metadata?.creationTimestamp, now), names, images, formatLabelSelector(rs.spec?.selector)],
    };
  },
};

/** Printer for apps/v1 StatefulSet: NAME READY AGE. */
export const statefulSetPrinter: Printer<StatefulSet> = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'Number of the pod with ready state'),
    AGE_COLUMN, CONTAINERS, IMAGES,
  ],
  row(s, now) {
    const [names, images] = containerCells(s.spec?.template?.spec?.containers);
    return {
      cells: [s.metadata?.name ?? '', `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}`, ageSince(s.metadata?.creationTimestamp, now), names, images],
    };
  },
};

/** Printer for apps/v1 DaemonSet: NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE. */
export const daemonSetPrinter: Printer<DaemonSet> = {
  columns: [
    NAME_COLUMN,
    col('Desired', 'integer', doc('io.k8s.api.apps.v1.DaemonSetStatus', 'desiredNumberScheduled')),
    col('Current', 'integer', doc('io.k8s.api.apps.v1.DaemonSetStatus', 'currentNumberScheduled')),
    col('Ready', 'integer', doc('io.k8s.api.apps.v1.DaemonSetStatus', 'numberReady')),
    col('Up-to-date', 'integer', doc('io.k8s.api.apps.v1.DaemonSetStatus', 'updatedNumberScheduled')),
    col('Available', 'integer', doc('io.k8s.api.apps.v1.DaemonSetStatus', 'numberAvailable')),
    col('Node Selector', 'string', doc('io.k8s.api.core.v1.PodSpec', 'nodeSelector')),
    AGE_COLUMN, CONTAINERS, IMAGES,
    col('Selector', 'string', doc('io.k8s.api.apps.v1.DaemonSetSpec', 'selector'), 1),
  ],
  row(d, now) {
    const st = d.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return {
      cells: [d.metadata?.name ?? '', st.desiredNumberScheduled ?? 0, st.currentNumberScheduled ?? 0, st.numberReady ?? 0,
        st.updatedNumberScheduled ?? 0, st.numberAvailable ?? 0, formatLabels(d.spec?.template?.spec?.nodeSelector),
        ageSince(d.metadata?.creationTimestamp, now), names, images, formatLabelSelector(d.spec?.selector)],
    };
  },
};

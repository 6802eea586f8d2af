/**
 * Check 3 (Debug Services step 7, seed 004's "Endpoints show fewer IPs than replicas"): the Pods
 * behind the Service are Ready; if not, why — image, crash loop, failing readiness probe, not
 * scheduled — and the command that shows more. Some not ready is a warning (the ready ones serve);
 * none ready is a failure (no endpoint receives traffic).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { DiagnoseFacts, ReadinessRecheck } from '../diagnosefacts.js';
import { ownerOf } from '../pods.js';
import type { Finding, PodView } from '../types.js';
import { deploymentOf, finding } from './common.js';

/** Where a Pod's template lives, for a patch: `deployment/web` (or the Pod itself). */
function workload(pod: Pod | undefined): string | undefined {
  const dep = pod ? deploymentOf(ownerOf(pod), pod.metadata?.labels) : undefined;
  return dep ? `deployment ${dep}` : undefined;
}

function recheckLines(r: ReadinessRecheck): string {
  const now = r.passes ? 'passes now (the Pod should turn Ready at the next probe)' : `answers ${r.result} now (it passes on ${r.kind === 'httpGet' ? 'HTTP 200–399' : 'a TCP connection'})`;
  const root = r.root ? `; GET / answers ${r.root.result}` : '';
  return `${r.pod}: its readiness probe ${r.probe} ${now}${root}`;
}

function recheckFix(r: ReadinessRecheck, pod: Pod | undefined, namespace: string): string[] {
  if (r.passes) return [];
  const w = workload(pod);
  const base = w ? `kubectl patch ${w} -n ${namespace} --type=json -p ` : undefined;
  const path = `/spec/template/spec/containers/${r.containerIndex}/readinessProbe`;
  if (r.kind === 'httpGet' && r.root?.passes && base) {
    return [`${base}'[{"op":"replace","path":"${path}/httpGet/path","value":"/"}]'   # probe a path the app answers`];
  }
  return [`kubectl get pod ${r.pod} -n ${namespace} -o jsonpath='{.spec.containers[${r.containerIndex}].readinessProbe}'   # what the probe asks; make it match what the container serves`];
}

function fixFor(p: PodView, imagesFile: string | undefined, rechecked: boolean): string[] {
  const why = p.why ?? '';
  const describe = `kubectl describe pod ${p.name} -n ${p.namespace}`;
  if (/ImagePull|ErrImage/.test(why)) {
    return [describe, `# the image is not in clusterip's image catalog: add it to ${imagesFile ?? '/var/lib/clusterip/<name>/images.json'}, e.g. {"my-app:1.0": {"command": ["busybox", "httpd", "-f", "-p", "8080"]}}`];
  }
  if (/CrashLoopBackOff|exited/.test(why)) return [`kubectl logs ${p.name} -n ${p.namespace} --previous`, describe];
  if (/[Rr]eadiness probe|not ready/.test(why)) {
    if (rechecked) return [describe];
    return [describe, `kubectl get pod ${p.name} -n ${p.namespace} -o jsonpath='{.spec.containers[*].readinessProbe}'   # what the probe asks; compare with what the container serves`];
  }
  return [describe];
}

export function checkPodsReady(f: DiagnoseFacts): Finding[] {
  const e = f.explanation;
  if (e.service.type === 'ExternalName') return [];
  const pods = e.pods;
  if (pods.length === 0) {
    return [finding('pods-ready', 'skip', 'NoPods', e.service.selector ? 'no Pods to check (the selector matches none)' : 'no Pods behind this Service')];
  }
  const notReady = pods.filter((p) => !p.ready);
  if (notReady.length === 0) {
    return [finding('pods-ready', 'pass', 'PodsReady', `${pods.length}/${pods.length} Pods Ready`, pods.map((p) => `${p.name} ${p.ip ?? ''} on ${p.node ?? '?'}`))];
  }
  const byName = new Map(f.pods.map((p) => [p.metadata!.name!, p]));
  const rechecks = (f.readiness ?? []).filter((r) => notReady.some((p) => p.name === r.pod));
  const fix = [...new Set([
    ...rechecks.flatMap((r) => recheckFix(r, byName.get(r.pod), e.service.namespace)),
    ...notReady.slice(0, 3).flatMap((p) => fixFor(p, f.cluster.imagesFile, rechecks.some((r) => r.pod === p.name))),
  ])];
  const lines = (ps: PodView[]) => [
    ...ps.map((p) => `${p.name}${p.ip ? ` (${p.ip})` : ''}: ${p.why ?? p.phase}${p.restarts ? `, ${p.restarts} restarts` : ''}`),
    ...rechecks.map(recheckLines),
  ];
  if (notReady.length === pods.length) {
    return [finding('pods-ready', 'fail', 'NoPodReady', `none of the ${pods.length} Pod${pods.length === 1 ? '' : 's'} is Ready: the Service has no ready endpoint`, lines(notReady), fix)];
  }
  return [finding('pods-ready', 'warn', 'SomePodsNotReady', `${notReady.length} of ${pods.length} Pods not Ready (they get no traffic; the ready ones do)`, lines(notReady), fix)];
}

/**
 * Check 4 (Debug Services steps 6 and 8, seeds 003/004 "Wrong port mapping"): each Service port's
 * targetPort reaches a listening process in every Pod. Judged from the sockets that really listen
 * in the Pod's network namespace, not from `containerPort` declarations (informational in
 * Kubernetes: an undeclared number that is served is fine — popeye's POP-1106 alarm is not).
 * Names: a named targetPort no container defines; port/targetPort swapped; another port served;
 * the wrong protocol; loopback only. Nothing listening (or loopback only) also gets the `kubectl
 * debug` command that shows the Pod's sockets from inside it.
 */
import type { DiagnoseFacts } from '../diagnosefacts.js';
import { isLoopback } from '../sockets.js';
import type { Finding, ListenerView, PodView, ServicePortView } from '../types.js';
import { debugListenersCommand, finding, patchTargetPort, portLabel } from './common.js';

function served(listeners: readonly ListenerView[], protocol: string): ListenerView[] {
  return listeners.filter((l) => l.protocol === protocol && !isLoopback(l.address));
}

function listenText(l: readonly ListenerView[]): string {
  return l.length ? l.map((x) => `${x.address}:${x.port}/${x.protocol}${x.process ? ` (${x.process})` : ''}`).join(', ') : 'nothing';
}

export function checkTargetPort(f: DiagnoseFacts): Finding[] {
  const e = f.explanation;
  const v = e.service;
  if (v.type === 'ExternalName' || v.ports.length === 0) return [];
  const pods = e.pods.filter((p) => p.phase === 'Running');
  if (pods.length === 0) return [finding('target-port', 'skip', 'NoRunningPods', 'no running Pod to check the target ports in')];
  const out: Finding[] = [];
  v.ports.forEach((sp: ServicePortView, index) => {
    const label = portLabel(sp);
    const problems: { pod: PodView; code: string; text: string; fix?: string; inspect?: string }[] = [];
    const good: string[] = [];
    for (const pod of pods) {
      const pp = pod.ports[index]!;
      const all = pod.listeners ?? [];
      if (pp.resolved === undefined) {
        const served0 = served(all, sp.protocol === 'UDP' ? 'UDP' : 'TCP');
        problems.push({ pod, code: 'NamedPortMissing', text: `no container of ${pod.name} has a port named "${sp.targetPort}" (its containers listen on ${listenText(all)})`,
          fix: served0.length === 1 ? patchTargetPort(v, index, served0[0]!.port) : undefined });
        continue;
      }
      if (pp.listening === 'unknown' || pod.listeners === undefined) continue;
      if (pp.listening === 'yes') { good.push(`${pod.name}: ${listenText(pp.listeners)}`); continue; }
      if (pp.listening === 'loopback') {
        problems.push({ pod, code: 'ListensOnLoopbackOnly', text: `${pod.name} listens on ${listenText(pp.listeners)} only: connections to the Pod IP ${pod.ip ?? ''} are refused`,
          fix: `# make the program in ${pod.name} listen on 0.0.0.0:${pp.resolved} (all addresses), not 127.0.0.1`, inspect: debugListenersCommand(pod.name, pod.namespace, pp.container) });
        continue;
      }
      // Nothing on resolved/protocol: which mistake is it?
      const proto = sp.protocol === 'UDP' ? 'UDP' : 'TCP';
      const other = proto === 'TCP' ? 'UDP' : 'TCP';
      const sameProto = served(all, proto);
      if (served(all, other).some((l) => l.port === pp.resolved)) {
        problems.push({ pod, code: 'ProtocolMismatch', text: `${pod.name} serves ${pp.resolved}/${other}, but the Service port is ${sp.protocol}`,
          fix: `kubectl patch svc ${v.name} -n ${v.namespace} --type=json -p '[{"op":"replace","path":"/spec/ports/${index}/protocol","value":"${other}"}]'` });
      } else if (sameProto.some((l) => l.port === sp.port) && sp.port !== pp.resolved) {
        problems.push({ pod, code: 'PortTargetPortSwapped', text: `nothing listens on targetPort ${pp.resolved} in ${pod.name}; it listens on ${sp.port} — the Service's own port. targetPort is the container's port (port: what clients call, targetPort: where the app listens)`,
          fix: patchTargetPort(v, index, sp.port) });
      } else {
        problems.push({ pod, code: 'TargetPortNotListening', text: `nothing listens on targetPort ${pp.resolved}/${proto} in ${pod.name} (it listens on ${listenText(all)})`,
          fix: sameProto.length === 1 ? patchTargetPort(v, index, sameProto[0]!.port) : `kubectl logs ${pod.name} -n ${pod.namespace}   # did the app start, and on which port?`,
          inspect: debugListenersCommand(pod.name, pod.namespace, pp.container) });
      }
    }
    if (problems.length === 0) {
      if (good.length) out.push(finding('target-port', 'pass', 'TargetPortServed', `${label} → targetPort ${sp.targetPort}${typeof sp.targetPort === 'string' ? ` (${[...new Set(pods.map((p) => p.ports[index]!.resolved))].join('/')})` : ''}: a process listens in ${good.length}/${pods.length} Pods`, good.slice(0, 5)));
      return;
    }
    const code = problems[0]!.code;
    const verdict = problems.length === pods.length ? 'fail' : 'warn';
    const title = {
      NamedPortMissing: `${label}: named targetPort "${sp.targetPort}" is defined by no container${problems.length < pods.length ? ' of some Pods' : ''} (those Pods get no endpoint for it)`,
      ListensOnLoopbackOnly: `${label}: the app listens on loopback only, unreachable at the Pod IP`,
      ProtocolMismatch: `${label}: protocol mismatch: the Pods serve the port with another protocol`,
      PortTargetPortSwapped: `${label}: port/targetPort confusion: nothing listens on targetPort ${sp.targetPort}; the Pods listen on ${sp.port}`,
      TargetPortNotListening: `${label}: nothing listens on targetPort ${sp.targetPort} in ${problems.length === pods.length ? 'the' : `${problems.length} of ${pods.length}`} Pods`,
    }[code] ?? `${label}: target port problem`;
    // The fix first, then (once) the command that shows the sockets by hand, in the first such Pod.
    const fixes = [...new Set([...problems.map((p) => p.fix), problems.find((p) => p.inspect)?.inspect].filter((x): x is string => x !== undefined))];
    out.push(finding('target-port', verdict, code, title, problems.slice(0, 5).map((p) => p.text), fixes.length ? fixes : [`kubectl describe svc ${v.name} -n ${v.namespace}`]));
  });
  return out;
}

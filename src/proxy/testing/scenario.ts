/**
 * One scenario both backends' golden tests run: a full sync of every shape, then an incremental
 * sync where an endpoint goes away, a Service without endpoints gets one and a Service is deleted.
 */
import type { ProxyBackend, ServiceState } from '../types.js';
import { shapes, slice, state, svc } from './shapes.js';

export interface ScenarioTexts { full: string; incremental: string; noop: string; restartFull: string; rulesSticky: string; rulesWeb: string }

export function runScenario(make: () => ProxyBackend): ScenarioTexts {
  const b = make();
  const desired = shapes();
  const full = b.plan(desired, new Set(), true, { chains: new Set(), sets: new Set() });
  full.commit();
  const rulesSticky = b.rulesFor('ns2/sticky');

  const next = new Map<string, ServiceState>(desired);
  next.set('ns1/web', state(svc('ns1', 'web', '10.96.0.11', [{ port: 80 }]),
    [slice('ns1', 'web', 'web-abc', [{ port: 8080 }], [{ ip: '10.244.0.2' }])]));
  next.set('ns1/dns', state(svc('ns1', 'dns', '10.96.0.12', [{ port: 53, protocol: 'UDP' }]),
    [slice('ns1', 'dns', 'dns-1', [{ port: 5353, protocol: 'UDP' }], [{ ip: '10.244.0.4' }])]));
  next.delete('ns2/sticky');
  const inc = b.plan(next, new Set(['ns1/web', 'ns1/dns', 'ns2/sticky']), false);
  inc.commit();
  const rulesWeb = b.rulesFor('ns1/web');
  const noop = b.plan(next, new Set(['ns2/multi']), false);
  noop.commit();

  // A restarted proxy: empty model, the kernel still holds the old chains (sticky's among them).
  const fresh = make();
  const existing = { chains: new Set<string>(), sets: new Set<string>() };
  for (const line of full.text.split('\n')) {
    const m = /^add (chain|set) \S+ \S+ (\S+)/.exec(line) ?? /^:(KUBE-S[VE][CP]-\S+) /.exec(line);
    if (!m) continue;
    if (m.length === 3) (m[1] === 'chain' ? existing.chains : existing.sets).add(m[2]!);
    else existing.chains.add(m[1]!);
  }
  const restart = fresh.plan(next, new Set(), true, existing);
  return { full: full.text, incremental: inc.text, noop: noop.text, restartFull: restart.text, rulesSticky, rulesWeb };
}

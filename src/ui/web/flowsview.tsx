/**
 * The live flows (`/ui/api/flows?follow=1`, the daemon's flows stream), newest first, filterable by
 * Service, Pod or namespace (the same filter `clusterip flows svc/NAME | pod/NAME | -n NS` sends).
 * Each line is `renderFlow`'s, as the CLI prints it; refused ones are marked in words.
 */
import { useEffect, useState } from 'preact/hooks';
import type { FlowList, FlowRecord, FlowStats, FlowUpdate } from '../../inspect/flowsmodel.js';
import { renderFlow, renderStatsProblems } from '../../inspect/flowsrender.js';
import { fetchJson, followNdjson } from './ndjson.js';
import { VirtualList } from './virtuallist.js';

const KEEP = 2000;

export type FlowScope = 'service' | 'pod' | 'namespace' | 'all';

export function FlowsView({ defaultService, available }: { defaultService?: string; available: boolean }) {
  const [scope, setScope] = useState<FlowScope>(defaultService ? 'service' : 'all');
  const [value, setValue] = useState(defaultService ?? '');
  const [applied, setApplied] = useState<{ scope: FlowScope; value: string }>({ scope: defaultService ? 'service' : 'all', value: defaultService ?? '' });
  const [flows, setFlows] = useState<FlowRecord[]>([]);
  const [stats, setStats] = useState<FlowStats | undefined>();
  const [state, setState] = useState('connecting');

  // Follow the selected Service until the filter is changed by hand.
  const [touched, setTouched] = useState(false);
  useEffect(() => {
    if (defaultService && !touched) { setScope('service'); setValue(defaultService); setApplied({ scope: 'service', value: defaultService }); }
  }, [defaultService]);

  useEffect(() => {
    if (!available) return;
    setFlows([]);
    const q = new URLSearchParams({ follow: '1' });
    if (applied.scope !== 'all' && applied.value) q.set(applied.scope, applied.value);
    let buf: FlowRecord[] = [];
    let raf = 0;
    // What the daemon still holds first (its last connections), then the live stream; a flow in both is shown once.
    const list = new URLSearchParams(q);
    list.delete('follow');
    list.set('limit', '200');
    void fetchJson<FlowList>(`/ui/api/flows?${list}`).then((l) => setFlows((live) => {
      const seen = new Set(live.map((f) => f.id + f.event));
      return [...live, ...l.flows.filter((f) => !seen.has(f.id + f.event)).sort((a, b) => b.at - a.at)].slice(0, KEEP);
    }), () => undefined);
    const h = followNdjson<FlowUpdate>(`/ui/api/flows?${q}`, {
      retryOnError: false,
      onState: (s, d) => setState(d ? `${s}: ${d}` : s),
      onLine: (u) => {
        if (u.type === 'stats') { setStats(u.stats); return; }
        buf.push(u.flow);
        // One render per frame however many flows arrived.
        raf ||= requestAnimationFrame(() => {
          raf = 0;
          const add = buf.reverse();
          buf = [];
          setFlows((old) => [...add, ...old].slice(0, KEEP));
        });
      },
    });
    return () => { h.stop(); cancelAnimationFrame(raf); };
  }, [applied.scope, applied.value, available]);

  if (!available) return <p class="muted">Flows are not collected by this daemon.</p>;
  const problems = stats ? renderStatsProblems(stats) : [];
  return (
    <div class="flows">
      <form class="flow-filter" onSubmit={(e) => { e.preventDefault(); setTouched(true); setApplied({ scope, value: value.trim() }); }}>
        <label>Show <select value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value as FlowScope)}>
          <option value="service">Service (namespace/name)</option>
          <option value="pod">Pod (namespace/name)</option>
          <option value="namespace">namespace</option>
          <option value="all">everything</option>
        </select></label>
        {scope !== 'all' && <label><span class="sr">{scope}</span><input value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} placeholder={scope === 'namespace' ? 'default' : 'default/nginx'} /></label>}
        <button type="submit">Apply</button>
        <span class="muted" aria-live="polite">{state === 'live' ? `● live · ${flows.length} shown` : state}</span>
      </form>
      {problems.length > 0 && <p class="warn" role="status">{problems.join('; ')}</p>}
      <VirtualList items={flows} label="Connections, newest first" size={() => 24} keyOf={(f) => f.id + f.event} class="flow-list"
        render={(f) => <div class={`flow ${f.event === 'refused' ? 'refused' : ''}`} data-flow={f.id}>{f.event === 'refused' ? '✗ ' : ''}{renderFlow(f)}</div>} />
    </div>
  );
}

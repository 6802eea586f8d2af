/**
 * Everything about the selected Service: its selector, the path diagram with live counts, the
 * trace of its changes (replayable) and Diagnose. Streams: the Service's trace (follow) and its
 * flows (follow; each new connection adds one to its endpoint's count); explain, when the daemon
 * has it, for the kernel's rule text and counters (read again after traffic, at most every 2 s).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FlowUpdate } from '../../inspect/flowsmodel.js';
import type { OutsideReachability, TraceChange, TraceState, TraceUpdate } from '../../inspect/tracemodel.js';
import { applyStep } from '../../inspect/tracerecorder.js';
import type { ClusterInfo } from '../model.js';
import { DiagnoseView, type DiagnosisLite } from './diagnoseview.js';
import { fetchJson, followNdjson } from './ndjson.js';
import { buildPath, type ExplainLite, type PathNode } from './pathmodel.js';
import { PathDiagram } from './pathview.js';
import type { TopologyStore } from './store.js';
import { portText, selText } from './topologyview.js';
import { TraceView } from './traceview.js';

function useTrace(service: string, enabled: boolean): { changes: TraceChange[]; outside?: OutsideReachability } {
  const [data, setData] = useState<{ changes: TraceChange[]; outside?: OutsideReachability }>({ changes: [] });
  useEffect(() => {
    setData({ changes: [] });
    if (!enabled) return;
    let changes: TraceChange[] = [];
    let outside: OutsideReachability | undefined;
    const h = followNdjson<TraceUpdate>(`/ui/api/trace?service=${encodeURIComponent(service)}&last=20&follow=1`, {
      onLine: (u) => {
        if (u.type === 'snapshot') { changes = u.list.changes; outside = u.list.outside; }
        else if (u.type === 'change') changes = [...changes.filter((c) => c.id !== u.change.id), u.change].slice(-20);
        else if (u.type === 'step') {
          changes = changes.map((c) => (c.id === u.changeId && !c.steps.some((s) => s.at === u.step.at && s.kind === u.step.kind)
            ? { ...c, steps: [...c.steps, u.step].sort((a, b) => a.at - b.at) } : c));
        } else if (u.type === 'outside') outside = u.outside;
        setData({ changes, ...(outside ? { outside } : {}) });
      },
    });
    return () => h.stop();
  }, [service, enabled]);
  return data;
}

/** Connections per backend `ip:port` of this Service, from its live flows. */
function useFlowCounts(service: string, enabled: boolean, onFlow: () => void): Map<string, number> {
  const [counts, setCounts] = useState(new Map<string, number>());
  const cb = useRef(onFlow);
  cb.current = onFlow;
  useEffect(() => {
    setCounts(new Map());
    if (!enabled) return;
    const h = followNdjson<FlowUpdate>(`/ui/api/flows?service=${encodeURIComponent(service)}&follow=1`, {
      retryOnError: false,
      onLine: (u) => {
        if (u.type !== 'flow' || u.flow.event !== 'new' || !u.flow.backend) return;
        const k = `${u.flow.backend.ip}:${u.flow.backend.port}`;
        setCounts((m) => new Map(m).set(k, (m.get(k) ?? 0) + 1));
        cb.current();
      },
    });
    return () => h.stop();
  }, [service, enabled]);
  return counts;
}

export function ServicePanel({ store, version, svcKey, info }: { store: TopologyStore; version: number; svcKey: string; info: ClusterInfo }) {
  const svc = store.services.get(svcKey);
  const [portIndex, setPortIndex] = useState(0);
  const [open, setOpen] = useState<PathNode | undefined>();
  const [explain, setExplain] = useState<{ e: ExplainLite; flowsAt: Map<string, number> } | undefined>();
  const countsRef = useRef(new Map<string, number>());
  const [diag, setDiag] = useState<{ running: boolean; d?: DiagnosisLite; error?: string }>({ running: false });
  const explainTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const trace = useTrace(svcKey, info.features.trace);

  const readExplain = (): void => {
    if (!info.features.explain || explainTimer.current) return;
    explainTimer.current = setTimeout(() => {
      explainTimer.current = undefined;
      loadExplain();
    }, 2000);
  };
  const loadExplain = (): void => {
    const flowsAt = new Map(countsRef.current);
    fetchJson<ExplainLite>(`/ui/api/explain?service=${encodeURIComponent(svcKey)}`).then((e) => setExplain({ e, flowsAt }), () => undefined);
  };
  const counts = useFlowCounts(svcKey, info.features.flows, readExplain);
  countsRef.current = counts;
  useEffect(() => {
    setOpen(undefined); setPortIndex(0); setExplain(undefined); setDiag({ running: false });
    if (info.features.explain) loadExplain();
    return () => { clearTimeout(explainTimer.current); explainTimer.current = undefined; };
  }, [svcKey]);

  // The state after the latest recorded change, and the rule lines each node's proxy last sent.
  const traced = useMemo(() => {
    const last = trace.changes[trace.changes.length - 1];
    let state: TraceState | undefined = last?.before;
    for (const s of last?.steps ?? []) state = applyStep(state!, s);
    const evidence: Record<string, string[]> = {};
    for (const c of trace.changes) for (const s of c.steps) if (s.kind === 'proxy-sync' && s.evidence.length) evidence[s.node] = s.evidence;
    return { state, evidence };
  }, [trace.changes]);

  const graph = useMemo(() => buildPath({
    store, svcKey, portIndex, ...(traced.state ? { trace: traced.state } : {}), ruleEvidence: traced.evidence, flowCounts: counts, ...(explain ? { explain: explain.e, flowCountsAtExplain: explain.flowsAt } : {}),
  }), [version, svcKey, portIndex, traced, counts, explain]);

  if (!svc) return <p class="muted">Service {svcKey} no longer exists.</p>;
  const sel = svc.selector;
  const diagnose = (): void => {
    setDiag({ running: true });
    fetchJson<DiagnosisLite>(`/ui/api/diagnose?service=${encodeURIComponent(svcKey)}`, { method: 'POST' })
      .then((d) => setDiag({ running: false, d }), (e: Error) => setDiag({ running: false, error: e.message }));
  };
  return (
    <section class="service" aria-labelledby="svc-h">
      <div class="svc-head">
        <h2 id="svc-h">Service <span data-testid="svc-title">{svcKey}</span></h2>
        <span>{svc.type} {svc.clusterIP ?? (svc.headless ? '(headless)' : '')}</span>
        <span>selector {sel ? <span class="labels">{Object.entries(sel).map(([k, v]) => <span class="label match">{k}={v}</span>)}</span> : <em>none (endpoints by hand)</em>}</span>
        {svc.ports.length > 1 && (
          <label>port <select value={portIndex} onChange={(e) => setPortIndex(Number((e.target as HTMLSelectElement).value))}>
            {svc.ports.map((p, i) => <option value={i}>{portText(p)}</option>)}
          </select></label>
        )}
        <button type="button" class="diagnose-btn" onClick={diagnose} disabled={!info.features.diagnose || diag.running}
          title={info.features.diagnose ? 'run clusterip diagnose for this Service' : 'diagnose is not available in this daemon yet'}>
          {diag.running ? 'Diagnosing…' : 'Diagnose'}
        </button>
      </div>
      <p class="sr" aria-live="polite">{sel ? `Selector ${selText(sel)}.` : ''} {graph.nodes.filter((n) => n.kind === 'endpoint' && n.state === 'ok').length} ready endpoints.</p>
      <div class="diagram-wrap">
        <PathDiagram graph={graph} openId={open?.id} onOpen={(n) => setOpen((o) => (o?.id === n.id ? undefined : n))} />
      </div>
      {open && (
        <div class="detail" role="region" aria-label={`Details: ${open.title}`}>
          <button type="button" class="close" onClick={() => setOpen(undefined)} aria-label="Close details">×</button>
          <h3>{open.title}</h3>
          {open.why && <p>{open.state === 'off' ? '✗ ' : ''}{open.why}</p>}
          <pre class="rule-text">{(graph.nodes.find((n) => n.id === open.id) ?? open).detail ?? open.lines.join('\n')}</pre>
        </div>
      )}
      {diag.error && <p class="error" role="alert">diagnose failed: {diag.error}</p>}
      {diag.d && <DiagnoseView d={diag.d} />}
      <h3>Trace: how its changes travelled</h3>
      {info.features.trace ? <TraceView service={svcKey} changes={trace.changes} outside={trace.outside} /> : <p class="muted">Trace is not recorded by this daemon.</p>}
    </section>
  );
}

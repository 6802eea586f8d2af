/**
 * Seed 000's "visual execution", from the real events: the process table (step, +ms, action,
 * resource state, result — the same words as `clusterip trace`, from tracerender.ts) and the
 * status tracker of one recorded change, replayable step by step (Previous / Play / Next, or the
 * slider): rows after the current step are dimmed and the tracker shows the state after it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { OutsideReachability, TraceChange } from '../../inspect/tracemodel.js';
import { latencySplit, processRows, trackerRows } from '../../inspect/tracerender.js';

export function TraceView({ service, changes, outside }: { service: string; changes: TraceChange[]; outside?: OutsideReachability }) {
  const [chosen, setChosen] = useState<number | undefined>();
  const change = changes.find((c) => c.id === chosen) ?? changes[changes.length - 1];
  const total = change ? change.steps.length : 0;
  const [at, setAt] = useState<number | undefined>(); // undefined: follow the latest step
  const [playing, setPlaying] = useState(false);
  const timer = useRef<ReturnType<typeof setInterval> | undefined>(undefined);
  const step = at === undefined ? total : Math.min(at, total);

  useEffect(() => { setAt(undefined); setPlaying(false); }, [change?.id]);
  useEffect(() => {
    if (!playing) return;
    timer.current = setInterval(() => {
      setAt((a) => {
        const next = (a ?? 0) + 1;
        if (next >= total) { setPlaying(false); return undefined; }
        return next;
      });
    }, 900);
    return () => clearInterval(timer.current);
  }, [playing, total]);

  if (!change) return <p class="muted">No change of {service} recorded yet. Apply, scale or delete something it selects, and each step appears here as it happens.</p>;
  const rows = processRows(change, outside).slice(1);
  const tracker = trackerRows(change);
  const stepRow = rows[step - 1];
  return (
    <div class="trace">
      <div class="trace-head">
        <label>Change <select value={change.id} onChange={(e) => setChosen(Number((e.target as HTMLSelectElement).value))}>
          {changes.map((c) => <option value={c.id}>#{c.id} {new Date(c.startedAt).toLocaleTimeString()} — {c.cause}</option>)}
        </select></label>
        <span class="replay" role="group" aria-label="Replay the change step by step">
          <button type="button" onClick={() => { setPlaying(false); setAt(Math.max(0, step - 1)); }} disabled={step === 0}>◀ Previous</button>
          <button type="button" onClick={() => { if (playing) setPlaying(false); else { setAt(0); setPlaying(true); } }}>{playing ? '❚❚ Pause' : '▶ Play'}</button>
          <button type="button" onClick={() => { setPlaying(false); setAt(step + 1 >= total ? undefined : step + 1); }} disabled={step >= total}>Next ▶</button>
          <input type="range" min={0} max={total} value={step} aria-label="Step"
            aria-valuetext={step === 0 ? 'before the change' : `step ${step} of ${total}: ${stepRow?.[2] ?? ''}`}
            onInput={(e) => { setPlaying(false); const v = Number((e.target as HTMLInputElement).value); setAt(v >= total ? undefined : v); }} />
          <span aria-live="polite" class="step-now">{step === 0 ? 'before the change' : `after step ${step} of ${total}`}</span>
        </span>
      </div>
      <table class="process" aria-label={`Process table of change #${change.id}`}>
        <thead><tr><th scope="col">step</th><th scope="col">+ms</th><th scope="col">action</th><th scope="col">resource state</th><th scope="col">result</th></tr></thead>
        <tbody>
          {rows.map((r, i) => (
            <tr class={i + 1 === step ? 'current' : i + 1 > step && i < total ? 'later' : ''} aria-current={i + 1 === step ? 'step' : undefined}>
              {r.map((c, j) => (j === 0 ? <th scope="row">{c}</th> : <td>{c}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="latency">{latencySplit(change)}</p>
      <table class="tracker" aria-label="Status tracker">
        <thead><tr>{tracker[0]!.map((c) => <th scope="col" class={c.step > step ? 'later' : ''}>{c.text}</th>)}</tr></thead>
        <tbody>
          {tracker.slice(1).map((r) => (
            <tr>{r.map((c, j) => (j === 0 ? <th scope="row">{c.text}</th> : <td class={c.step > step ? 'later' : c.step === lastShown(tracker[0]!, step) ? 'now' : ''}>{c.step > step ? '' : c.text}</td>))}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The tracker column that shows the state at `step` (the last column at or before it). */
function lastShown(head: { step: number }[], step: number): number {
  let s = -1;
  for (const c of head) if (c.step >= 0 && c.step <= step) s = c.step;
  return s;
}

/**
 * The selected Service's path, drawn: boxes are HTML (focusable buttons with screen-reader labels,
 * greyed and marked ✗ with the reason when not ready), placed where ELK's layered layout puts them
 * (elkjs, in a Web Worker so the page never stalls), edges an SVG layer under them. Counts on the
 * endpoint boxes update in place; only a change of boxes or edges asks ELK again.
 */
import type { ELK, ELKConstructorArguments, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PathGraph, PathNode } from './pathmodel.js';

let elk: Promise<ELK> | undefined;
function layoutEngine(): Promise<ELK> {
  // Loaded on first use: the topology renders without waiting for the layout engine.
  // elk-api.js is CommonJS: its module.exports (the constructor) is the default export.
  return elk ??= import('elkjs/lib/elk-api.js').then((m) => {
    const ELKApi = m.default as unknown as new (a: ELKConstructorArguments) => ELK;
    return new ELKApi({ workerUrl: '/ui/assets/elk-worker.js' });
  });
}

/** Box widths per kind (heights follow the text: boxHeight). */
const WIDTH: Record<PathNode['kind'], number> = { client: 190, dns: 230, vip: 170, rule: 190, endpoint: 170, none: 220, pod: 230, cport: 190 };

/**
 * A box's height for its text (ELK needs sizes before the browser has drawn anything): a title
 * line, the monospace lines wrapped at the box's width, the reason when greyed, the labels, the count.
 */
function boxHeight(n: PathNode): number {
  const w = WIDTH[n.kind] - 18;
  const wrap = (text: string, charPx: number): number => Math.max(1, Math.ceil((text.length * charPx) / w));
  let h = 10 + 17 * wrap(n.title, 7.2);
  for (const l of n.lines) h += 15 * wrap(l, 6.7);
  if (n.why && n.state === 'off') h += 15 * wrap(n.why, 6.2);
  if (n.labels?.length) h += 19 * Math.ceil(n.labels.length / 2) + 2;
  if (n.count !== undefined) h += 18;
  return Math.max(h, 40);
}

interface Laid { x: number; y: number; w: number; h: number }
interface Layout { w: number; h: number; boxes: Map<string, Laid>; edges: { id: string; points: { x: number; y: number }[]; off?: boolean }[] }

export function PathDiagram({ graph, onOpen, openId }: { graph: PathGraph; onOpen(n: PathNode): void; openId?: string }) {
  const [layout, setLayout] = useState<Layout | undefined>();
  const [error, setError] = useState<string | undefined>();
  const shapeRef = useRef('');
  useEffect(() => {
    if (graph.shape === shapeRef.current) return;
    shapeRef.current = graph.shape;
    let live = true;
    const g: ElkNode = {
      id: 'root',
      layoutOptions: {
        'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.edgeRouting': 'ORTHOGONAL',
        'elk.spacing.nodeNode': '14', 'elk.layered.spacing.nodeNodeBetweenLayers': '36', 'elk.padding': '[top=8,left=8,bottom=8,right=8]',
        'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
        // The chain is longer than a screen is wide: ELK wraps it onto a second row (after the rule).
        'elk.layered.wrapping.strategy': 'MULTI_EDGE', 'elk.aspectRatio': '2.2',
      },
      children: graph.nodes.map((n) => ({ id: n.id, width: WIDTH[n.kind], height: boxHeight(n) })),
      edges: graph.edges.map((e): ElkExtendedEdge => ({ id: e.id, sources: [e.from], targets: [e.to] })),
    };
    void layoutEngine().then((engine) => engine.layout(g)).then((r) => {
      if (!live) return;
      const boxes = new Map<string, Laid>((r.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? 0, h: c.height ?? 0 }]));
      const off = new Map(graph.edges.map((e) => [e.id, e.off]));
      const edges = (r.edges ?? []).map((e) => {
        const s = (e as ElkExtendedEdge).sections?.[0];
        return { id: e.id, off: off.get(e.id), points: s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint] : [] };
      });
      setLayout({ w: r.width ?? 0, h: r.height ?? 0, boxes, edges });
      setError(undefined);
    }, (e: Error) => { if (live) setError(`layout failed: ${e.message}`); });
    return () => { live = false; };
  }, [graph.shape]);

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!layout) return <p class="muted" aria-busy="true">laying out the path…</p>;
  return (
    <div class="diagram" style={{ width: `${layout.w}px`, height: `${layout.h}px` }}>
      <svg width={layout.w} height={layout.h} aria-hidden="true" class="edges">
        <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" /></marker></defs>
        {layout.edges.map((e) => (
          <polyline key={e.id} class={e.off ? 'off' : ''} points={e.points.map((p) => `${p.x},${p.y}`).join(' ')} marker-end="url(#arrow)" />
        ))}
      </svg>
      <ol class="boxes" aria-label="The path, from the client to the container port">
        {graph.nodes.map((n) => {
          const b = layout.boxes.get(n.id);
          if (!b) return null;
          return (
            <li key={n.id} style={{ left: `${b.x}px`, top: `${b.y}px`, width: `${b.w}px`, minHeight: `${b.h}px` }}>
              <button type="button" class={`box ${n.kind} ${n.state} ${openId === n.id ? 'open' : ''}`} data-node={n.id}
                aria-label={n.aria} aria-expanded={openId === n.id} onClick={() => onOpen(n)} title={n.why}>
                <span class="box-title">{n.title}</span>
                {n.lines.map((l) => <span class="box-line">{l}</span>)}
                {n.why && n.state === 'off' && <span class="box-why">{n.why}</span>}
                {n.labels && (
                  <span class="labels">
                    {n.labels.map((l) => <span class={`label ${l.match ? 'match' : ''}`}>{l.match ? '✓ ' : ''}{l.k}={l.v}</span>)}
                  </span>
                )}
                {n.count !== undefined && (
                  <span class="count" data-count={n.count}>{n.count} conn{n.count === 1 ? '' : 's'}<span class="muted"> ({n.countSource})</span></span>
                )}
              </button>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

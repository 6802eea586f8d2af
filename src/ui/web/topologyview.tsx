/**
 * The topology pane: the nodes, then per namespace its Services — each with its ClusterIP, ports,
 * EndpointSlices and the Pods beside it (ready or not, with why) — and the Pods no Service reaches.
 * A virtualized list; Enter or a click on a Service opens its path.
 */
import { useState } from 'preact/hooks';
import type { Row, TopologyStore } from './store.js';
import { VirtualList } from './virtuallist.js';

const SIZES = { ns: 34, svc: 100, loose: 56 };
const MAX_CHIPS = 10;

export function portText(p: { name: string; port: number; protocol: string; targetPort: number | string }): string {
  return `${p.port}/${p.protocol}→${p.targetPort}${p.name ? ` (${p.name})` : ''}`;
}

/** A Pod's name without its owner's prefix (web-5fd58b4b97-6hpvx → …6hpvx), for the chips; the full name is in the title and for screen readers. */
function shortName(name: string, owner?: string): string {
  const prefix = owner?.slice(owner.indexOf('/') + 1);
  return prefix && name.startsWith(`${prefix}-`) && name.length > prefix.length + 1 ? `…${name.slice(prefix.length + 1)}` : name;
}

function PodChip({ name, owner, ready, why, selected }: { name: string; owner?: string; ready: boolean; why?: string; selected?: boolean }) {
  return (
    <li class={`chip ${ready ? 'ready' : 'notready'}`} title={ready ? `${name}: ready` : `${name}: not ready — ${why ?? ''}`}>
      <span aria-hidden="true">{ready ? '✓' : '✗'} {shortName(name, owner)}</span>
      <span class="sr">{name}{ready ? ', ready' : `, not ready: ${why ?? 'unknown'}`}{selected === false ? ', not matched by the selector' : ''}</span>
    </li>
  );
}

export function TopologyView({ store, version, selected, onSelect }: { store: TopologyStore; version: number; selected?: string; onSelect(key: string): void }) {
  const [filter, setFilter] = useState('');
  const rows = store.rows(filter);
  const nodes = [...store.nodes.values()];

  const render = (r: Row) => {
    if (r.type === 'ns') {
      return (
        <h3 class="ns-row" data-ns={r.ns}>
          namespace <strong>{r.ns}</strong>
          <span class="muted"> · {r.services} Service{r.services === 1 ? '' : 's'} · {store.podsInNamespace(r.ns)} Pods</span>
        </h3>
      );
    }
    if (r.type === 'loose') {
      const pods = store.loosePods(r.ns);
      if (pods.length === 0) return <div class="loose-row muted">every Pod of {r.ns} is behind a Service ✓</div>;
      return (
        <div class="loose-row">
          <span class="muted">Pods no Service reaches ({pods.length}):</span>
          <ul class="chips" aria-label={`Pods in ${r.ns} that no Service reaches`}>
            {pods.slice(0, MAX_CHIPS).map((p) => <PodChip key={p.name} name={p.name} owner={p.owner} ready={p.ready} why={p.why} />)}
            {pods.length > MAX_CHIPS && <li class="chip more">+{pods.length - MAX_CHIPS} more</li>}
          </ul>
        </div>
      );
    }
    const svc = store.services.get(r.key);
    if (!svc) return null;
    const beside = store.podsBeside(r.key);
    const slices = store.slicesOf(r.key);
    const eps = slices.reduce((n, s) => n + s.endpoints.length, 0);
    const ready = slices.reduce((n, s) => n + s.endpoints.filter((e) => e.ready).length, 0);
    const isSel = selected === r.key;
    return (
      <div class={`svc-row ${isSel ? 'selected' : ''}`} data-service={r.key}>
        <button type="button" data-focus class="svc-button" aria-pressed={isSel} onClick={() => onSelect(r.key)}
          aria-label={`Service ${r.key}, ${svc.clusterIP ?? (svc.headless ? 'headless' : svc.type)}, ${ready} of ${eps} endpoints ready. Show its path.`}>
          <span class="svc-name">{svc.name}</span>
          <span class="svc-ip">{svc.clusterIP ?? (svc.headless ? 'headless' : svc.externalName ?? svc.type)}</span>
          <span class="svc-ports">{svc.ports.map(portText).join(', ')}</span>
        </button>
        <div class="svc-side">
          <div class="slices" data-endpoints={ready}>
            <span class={`ep-count ${ready === 0 ? 'none' : ''}`}>{ready === 0 ? '✗ 0 ready endpoints' : `✓ ${ready} ready endpoint${ready === 1 ? '' : 's'}`}{eps > ready ? `, ${eps - ready} not ready` : ''}</span>
            <span class="muted"> · {slices.length ? slices.map((s) => s.name).join(', ') : 'no EndpointSlice'}</span>
          </div>
          <ul class="chips" aria-label={`Pods of ${r.key}`}>
            {beside.length === 0 && <li class="chip none">{svc.selector ? `selector ${selText(svc.selector)} matches no Pod` : 'no selector (endpoints written by hand)'}</li>}
            {beside.slice(0, MAX_CHIPS).map((b) => (
              <PodChip key={b.key} name={b.name} owner={b.pod?.owner} ready={b.endpoint ? b.endpoint.ready : b.pod?.ready ?? false}
                why={b.pod?.why ?? (b.endpoint && !b.endpoint.ready ? 'endpoint not ready' : undefined)} selected={b.selected} />
            ))}
            {beside.length > MAX_CHIPS && <li class="chip more">+{beside.length - MAX_CHIPS} more</li>}
          </ul>
        </div>
      </div>
    );
  };

  return (
    <section class="topology" aria-labelledby="topology-h">
      <h2 id="topology-h">Topology</h2>
      <ul class="nodes" aria-label="Nodes">
        {nodes.map((n) => (
          <li key={n.name} class={`node ${n.ready ? 'ready' : 'notready'}`}>
            <span aria-hidden="true">{n.ready ? '●' : '○'}</span> node <strong>{n.name}</strong> {n.ready ? 'Ready' : `not ready: ${n.why ?? ''}`}
            <span class="muted"> · {n.podCIDR ?? ''} · {store.podsOnNode(n.name)} Pods</span>
          </li>
        ))}
      </ul>
      <label class="filter">Filter Services <input type="search" value={filter} placeholder="namespace/name or ClusterIP" onInput={(e) => setFilter((e.target as HTMLInputElement).value)} /></label>
      <VirtualList items={rows} version={version} label="Namespaces, Services and their Pods"
        size={(r) => SIZES[r.type]} keyOf={(r) => (r.type === 'svc' ? `s:${r.key}` : `${r.type}:${r.ns}`)} render={render} />
    </section>
  );
}

export function selText(sel: Record<string, string>): string {
  return Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
}

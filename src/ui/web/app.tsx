/**
 * The web view's page: the topology on the left (live from `/ui/api/topology`), the selected
 * Service's path, trace and diagnose in the middle, the live flows below. The selected Service is
 * kept in the address (#svc=NS/NAME) so a reload or a shared link opens it again.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ClusterInfo, TopologyUpdate } from '../model.js';
import { FlowsView } from './flowsview.js';
import { followNdjson } from './ndjson.js';
import { ServicePanel } from './servicepanel.js';
import { TopologyStore } from './store.js';
import { TopologyView } from './topologyview.js';

const store = new TopologyStore();

function selectedFromHash(): string | undefined {
  const m = /^#svc=([^&]+)/.exec(location.hash);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

function App() {
  const [version, setVersion] = useState(0);
  const [info, setInfo] = useState<ClusterInfo | undefined>();
  const [conn, setConn] = useState('connecting');
  const [selected, setSelected] = useState<string | undefined>(selectedFromHash());

  useEffect(() => {
    let raf = 0;
    let cluster: ClusterInfo | undefined;
    const h = followNdjson<TopologyUpdate>('/ui/api/topology?follow=1', {
      onState: (s, d) => setConn(d ? `${s}: ${d}` : s),
      onLine: (u) => {
        store.apply(u);
        if (u.type === 'begin') { cluster = u.cluster; return; }
        if (u.type === 'ready' || u.type === 'snapshot') setInfo(u.type === 'snapshot' ? u.cluster : cluster);
        if (u.type === 'records') return;
        // One render per frame, however many deltas arrived in it.
        raf ||= requestAnimationFrame(() => { raf = 0; setVersion(store.version); });
      },
    });
    const onHash = (): void => setSelected(selectedFromHash());
    addEventListener('hashchange', onHash);
    return () => { h.stop(); removeEventListener('hashchange', onHash); };
  }, []);

  const select = (key: string): void => {
    history.replaceState(null, '', `#svc=${encodeURIComponent(key)}`);
    setSelected(key);
  };
  const logout = (): void => {
    void fetch('/ui/api/logout', { method: 'POST', credentials: 'same-origin' }).finally(() => location.assign('/ui/'));
  };

  return (
    <>
      <header class="top">
        <h1>clusterip <span class="muted">· {info?.name ?? '…'}</span></h1>
        <span class={`conn ${conn === 'live' ? 'live' : ''}`} role="status" aria-live="polite">{conn === 'live' ? '● live' : `○ ${conn}`}</span>
        <span class="muted">signed in as {info?.user ?? '…'}</span>
        <button type="button" onClick={logout}>Sign out</button>
      </header>
      <main class="layout" data-version={version}>
        {info ? <TopologyView store={store} version={version} selected={selected} onSelect={select} /> : <section class="topology" aria-busy="true"><h2>Topology</h2><p class="muted">loading…</p></section>}
        <div class="centre">
          {info && selected ? <ServicePanel store={store} version={version} svcKey={selected} info={info} />
            : <section class="service"><h2>Service path</h2><p class="muted">Choose a Service on the left to see how a packet reaches its Pods.</p></section>}
          <section class="flows-pane" aria-labelledby="flows-h">
            <h2 id="flows-h">Flows</h2>
            {info && <FlowsView defaultService={selected} available={info.features.flows} />}
          </section>
        </div>
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);

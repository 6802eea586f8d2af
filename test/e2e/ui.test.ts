// The web view (issue 18) in headless Chromium against a real cluster (`clusterip up`, real kubectl,
// real kernel): sign-in with `clusterip ui`'s one-time link, seed 004's objects, a scale to 5 seen
// without a reload, a wget's connection counted on its endpoint, a selector typo, trace replay,
// flows, the keyboard, and what an unauthenticated client gets. Each test saves a screenshot under
// test-output/ui/. One cluster and one browser for the file; both are removed at the end, also
// on failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { runCli, upCluster, type UpCluster } from '../harness/up.js';
import { launchBrowser, outputDir, type TestBrowser } from './ui-browser.js';
import { seed004Manifest } from '../fixtures/seed004.js';
import { clientFromKubeconfig, type HttpClient } from '../../src/client/http.js';
import { R } from '../../src/api/resources.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OUT = outputDir('ui');
let c: UpCluster;
let browser: TestBrowser;
let page: Page;
let api: HttpClient;
const afterHooks: (() => Promise<void>)[] = [];
const hooks = { after: (fn: () => Promise<void>) => { afterHooks.push(fn); } };

before(async () => {
  // The page as the source is now (dist/ui is otherwise only rebuilt by npm ci / npm run build).
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--ui-only'], { cwd: ROOT, stdio: 'inherit' });
  c = await upCluster(hooks as never);
  browser = await launchBrowser(hooks.after);
  api = await clientFromKubeconfig(join(c.dir, 'kubeconfig'));
  afterHooks.push(async () => api.close());
});
after(async () => { for (const h of afterHooks.reverse()) await h().catch((e: unknown) => console.error(`cleanup: ${String(e)}`)); });

async function ok(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
  const r = await c.kubectl(args, opts);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const shot = (name: string, p: Page = page): Promise<Buffer> => p.screenshot({ path: join(OUT, `${name}.png`), fullPage: false });

/** A plain HTTPS request to the API server without any credential. */
function anonymous(path: string, method = 'GET'): Promise<{ code: number; type: string; body: string }> {
  return new Promise((res, rej) => {
    const req = request(new URL(path, c.record.apiURL), { method, rejectUnauthorized: false }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => { body += d; });
      r.on('end', () => res({ code: r.statusCode ?? 0, type: String(r.headers['content-type'] ?? ''), body }));
    });
    req.on('error', rej);
    req.end();
  });
}

/** `clusterip ui`'s URL (a fresh one-time token each call). */
async function loginUrl(): Promise<string> {
  const r = await c.cli(['ui']);
  assert.equal(r.code, 0, r.stderr);
  const url = r.stdout.trim();
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/ui\/login#token=[A-Za-z0-9_-]{43}$/);
  assert.match(r.stderr, /signs in as clusterip-admin/);
  return url;
}

test('an unauthenticated request gets the login page and no data', async () => {
  await ok(['create', 'namespace', 'student-01']);
  await ok(['apply', '-f', await c.file('seed004.yaml', seed004Manifest('01'))]);
  for (const path of ['/ui/', '/ui/anything', '/ui/assets/app.js', '/ui/assets/elk-worker.js']) {
    const r = await anonymous(path);
    assert.equal(r.code, 401, path);
    assert.match(r.type, /^text\/html/, path);
    assert.match(r.body, /<form id="login">/, path);
    assert.doesNotMatch(r.body, /nginx-service-01|student-01|10\.9\d\.|10\.1[01]\d\./, `${path}: no cluster data`);
  }
  for (const path of ['/ui/api/topology', '/ui/api/topology?follow=1', '/ui/api/trace?service=student-01/nginx-service-01', '/ui/api/flows']) {
    const r = await anonymous(path);
    assert.equal(r.code, 401, path);
    assert.equal(JSON.parse(r.body).reason, 'Unauthorized', path);
    assert.doesNotMatch(r.body, /nginx|student/);
  }
  // Only the API's own credentials mint login tokens.
  assert.equal((await anonymous('/ui/api/login-tokens', 'POST')).code, 401);
  // The login page's own code and style are served (nothing else).
  assert.equal((await anonymous('/ui/assets/login.js')).code, 200);

  const p = await browser.page();
  await p.goto(new URL('/ui/', c.record.apiURL).href);
  await p.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(await p.locator('[data-service]').count(), 0);
  await shot('unauthenticated-login-page', p);
  // A made-up token is refused with a message, and no cookie is set.
  await p.getByLabel(/paste the token/).fill('A'.repeat(43));
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByText(/this login link is not valid/).waitFor();
  assert.equal((await browser.context.cookies()).length, 0);
  await p.close();
});

test('login: clusterip ui prints a one-time link; it sets an HttpOnly, Secure, SameSite=Strict cookie; used twice it fails', async () => {
  const url = await loginUrl();
  page = await browser.page();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForURL(/\/ui\/$/);
  await page.getByRole('status').filter({ hasText: '● live' }).waitFor();
  await page.getByText('signed in as clusterip-admin').waitFor();
  const cookies = await browser.context.cookies();
  assert.equal(cookies.length, 1);
  assert.equal(cookies[0]!.name, 'clusterip_ui');
  assert.equal(cookies[0]!.httpOnly, true);
  assert.equal(cookies[0]!.secure, true);
  assert.equal(cookies[0]!.sameSite, 'Strict');
  assert.equal(cookies[0]!.path, '/ui/');
  assert.equal(await page.evaluate(() => document.cookie), '', 'no script can read the session');
  assert.equal(page.url().includes('token'), false, 'the token left the address bar');
  await shot('login');
  // The same link again, in a second tab: refused.
  const again = await browser.context.newPage();
  await browser.context.clearCookies();
  await again.goto(url);
  await again.getByText(/this login link is not valid/).waitFor();
  await again.close();
  // Sign in again for the rest of the file.
  await page.goto(await loginUrl());
  await page.waitForURL(/\/ui\/$/);
});

test('the seed-004 objects appear: namespace, Service with ClusterIP and port, slice, 3 ready Pods, the node', async () => {
  await ok(['rollout', 'status', '-n', 'student-01', 'deployment/nginx-deployment-01', '--timeout=90s'], { timeoutMs: 100_000 });
  const ip = (await ok(['get', 'svc', '-n', 'student-01', 'nginx-service-01', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  const pods = (await ok(['get', 'pods', '-n', 'student-01', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(' ');
  assert.equal(pods.length, 3);
  await page.getByLabel('Filter Services').fill('student-01');
  const row = page.locator('[data-service="student-01/nginx-service-01"]');
  await row.waitFor();
  await until('3 ready endpoints on the row', async () => (await row.locator('.ep-count').textContent())?.includes('3 ready endpoints'));
  const text = (await row.textContent())!;
  assert.ok(text.includes(ip), text);
  assert.ok(text.includes('80/TCP→80 (http)'), text);
  assert.match(text, /nginx-service-01-[a-z0-9]{5}/, 'the EndpointSlice');
  for (const p of pods) assert.ok(text.includes(p), `Pod ${p} beside the Service: ${text}`);
  assert.equal(await row.locator('.chip.ready').count(), 3);
  await page.getByRole('heading', { name: /namespace student-01/ }).waitFor();
  assert.match((await page.getByRole('list', { name: 'Nodes' }).textContent())!, new RegExp(`node ${c.name}-node Ready`));
  await page.getByLabel('Filter Services').fill('');
  await shot('seed004-topology');

  // Its path: client → DNS → ClusterIP → the node's rule → 3 endpoints → Pods (selector label marked) → containerPort 80.
  await page.goto(new URL('/ui/#svc=student-01/nginx-service-01', c.record.apiURL).href);
  await page.locator('.box.endpoint.ok').nth(2).waitFor();
  assert.equal(await page.locator('.box.endpoint.ok').count(), 3);
  await page.locator('[data-node="vip"]', { hasText: `${ip}:80/TCP` }).waitFor();
  await page.locator('[data-node="dns"]', { hasText: `nginx-service-01.student-01.svc.cluster.local` }).waitFor();
  assert.equal(await page.locator('.box.pod .label.match', { hasText: 'app=nginx-01' }).count(), 3);
  assert.equal(await page.locator('.box.cport', { hasText: 'nginx:80/TCP (http)' }).count(), 3);
  // The node's rule: programmed to 3 endpoints (from the trace of its proxy sync); a click shows the rule text.
  const rule = page.locator(`[data-node="rule:${c.name}-node"]`);
  await until('the rule box says 3 endpoints', async () => (await rule.textContent())?.includes('DNAT → 3 endpoints'));
  await rule.click();
  const detail = page.getByRole('region', { name: /Details: node/ });
  await detail.waitFor();
  assert.match((await detail.textContent())!, new RegExp(ip.replace(/\./g, '\\.')), 'the rule text names the ClusterIP');
  await shot('seed004-path');
  await detail.getByRole('button', { name: 'Close details' }).click();
});

test('kubectl scale to 5 shows 5 endpoints in under 1 s of the API having them, without a reload', async () => {
  await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
  const svc = 'student-01/nginx-service-01';
  // The page notes when its row first says 5 ready endpoints.
  // (A string: functions compiled by tsx carry helpers the page does not have.)
  await page.evaluate(`(() => {
    const check = () => {
      const el = document.querySelector('[data-service="${svc}"] .slices');
      if (!window.shownAt && el && el.getAttribute('data-endpoints') === '5') window.shownAt = Date.now();
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  })()`);
  // The API side: when the Service's slices first hold 5 ready endpoints (a watch, in this process).
  let apiAt = 0;
  const ready = (s: EndpointSlice): number => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length;
  const counts = new Map<string, number>();
  const watch = api.watch<EndpointSlice>(R.endpointslices, 'student-01', { labelSelector: 'kubernetes.io/service-name=nginx-service-01' }, (ev) => {
    counts.set(ev.object.metadata!.name!, ev.type === 'DELETED' ? 0 : ready(ev.object));
    if (!apiAt && [...counts.values()].reduce((a, b) => a + b, 0) === 5) apiAt = Date.now();
  });
  try {
    await ok(['scale', '-n', 'student-01', 'deployment/nginx-deployment-01', '--replicas=5']);
    await until('5 ready endpoints in the API', async () => apiAt > 0, 90_000);
    const shownAt = await until('5 endpoints on the page', async () => page.evaluate(() => (window as unknown as { shownAt?: number }).shownAt), 5000);
    const ms = shownAt - apiAt;
    console.log(`scale to 5: the page showed 5 endpoints ${ms} ms after the API had them`);
    assert.ok(ms < 1000, `shown ${ms} ms after the API had 5 ready endpoints`);
  } finally {
    watch.stop();
  }
  assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload');
  await page.locator('.box.endpoint.ok').nth(4).waitFor();
  assert.equal(await page.locator('.box.endpoint.ok').count(), 5);
  await shot('scale-to-5');
});

test("a wget from a Pod raises one endpoint's count by one", async () => {
  await ok(['run', 'client', '-n', 'student-01', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
  await until('client running', async () => (await ok(['get', 'pod', '-n', 'student-01', 'client', '-o', 'jsonpath={.status.phase}'])) === 'Running');
  const countsOf = async (): Promise<Map<string, number>> => new Map(await page.locator('.box.endpoint').evaluateAll((els) => els.map((e) => [
    e.getAttribute('data-node') ?? '', Number(e.querySelector('.count')?.getAttribute('data-count') ?? 'NaN')] as [string, number])));
  await page.getByRole('status').filter({ hasText: '● live' }).waitFor();
  const before = await countsOf();
  const out = await ok(['exec', '-n', 'student-01', 'client', '--', 'wget', '-qO-', 'http://nginx-service-01']);
  assert.match(out, /Welcome to nginx/);
  const afterCounts = await until('one endpoint count raised', async () => {
    const now = await countsOf();
    const total = [...now.values()].reduce((a, b) => a + b, 0) - [...before.values()].reduce((a, b) => a + b, 0);
    return total >= 1 ? now : undefined;
  }, 10_000);
  const raised = [...afterCounts].filter(([k, v]) => v !== before.get(k));
  assert.equal(raised.length, 1, `exactly one endpoint counted it: ${JSON.stringify([...before])} → ${JSON.stringify([...afterCounts])}`);
  assert.equal(raised[0]![1] - (before.get(raised[0]![0]) ?? 0), 1);
  // The flows pane shows the connection: client Pod → Service → the Pod whose count rose.
  const flows = page.getByRole('list', { name: 'Connections, newest first' });
  await flows.getByText(/student-01\/client .*→ svc student-01\/nginx-service-01 .*→ pod student-01\/nginx-deployment-01-/).first().waitFor();
  await shot('wget-count');
});

test('a Service with a selector typo shows zero endpoints, the node rejecting, and the diagnose finding with its fix', async () => {
  await ok(['apply', '-f', '-'], {
    input: `apiVersion: v1\nkind: Service\nmetadata: {name: nginx-typo, namespace: student-01}\nspec:\n  selector: {app: nginx-1}\n  ports: [{port: 80, targetPort: 80}]\n`,
  });
  const row = page.locator('[data-service="student-01/nginx-typo"]');
  await page.getByLabel('Filter Services').fill('nginx-typo');
  await row.waitFor();
  await until('0 endpoints on the row', async () => (await row.textContent())?.includes('✗ 0 ready endpoints'));
  assert.match((await row.textContent())!, /selector app=nginx-1 matches no Pod/);
  await row.getByRole('button').click();
  await page.locator('[data-node="none"]', { hasText: '0 endpoints' }).waitFor();
  assert.match((await page.locator('[data-node="none"]').textContent())!, /selector app=nginx-1 matches no ready Pod/);
  await page.locator('[data-node^="rule:"]', { hasText: 'reject (no endpoints)' }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('.box.endpoint').count(), 0);
  // Diagnose from the page: the checklist's selector finding, failed, with the nearest labels and the fix.
  await page.getByRole('button', { name: 'Diagnose' }).click();
  const finding = page.locator('.finding[data-code="SelectorMatchesNothing"]');
  await finding.waitFor({ timeout: 30_000 });
  const text = (await finding.textContent())!;
  assert.match(text, /FAIL/);
  assert.match(text, /selector app=nginx-1 matches no Pod in namespace student-01/);
  assert.match(text, /kubectl patch svc nginx-typo -n student-01/, 'the fix');
  assert.match((await page.locator('.verdict').textContent())!, /^FAIL/);
  await shot('selector-typo');
  await page.getByLabel('Filter Services').fill('');
});

test('trace: the process table and status tracker of the last change, replayed step by step', async () => {
  await page.goto(new URL('/ui/#svc=student-01/nginx-service-01', c.record.apiURL).href);
  const table = page.getByRole('table', { name: /Process table of change/ });
  await table.waitFor();
  await until('the scale change with its steps', async () => (await table.locator('tbody tr').count()) >= 2);
  assert.match((await page.getByRole('combobox', { name: 'Change' }).textContent())!, /kubectl (apply|scale)/);
  // Replay: Previous steps back from the latest, the slider jumps, Next steps forward.
  const slider = page.getByRole('slider', { name: 'Step' });
  const total = Number(await slider.getAttribute('max'));
  assert.ok(total >= 2, `steps: ${total}`);
  assert.equal(Number(await slider.inputValue()), total);
  await page.getByRole('button', { name: /Previous/ }).click();
  assert.equal(Number(await slider.inputValue()), total - 1);
  await slider.fill('1');
  assert.equal(await table.locator('tbody tr[aria-current="step"] th').textContent(), '1');
  assert.equal(await table.locator('tbody tr.later').count() > 0, true, 'the steps after the current one are dimmed');
  await page.getByRole('button', { name: /Next/ }).click();
  assert.equal(await table.locator('tbody tr[aria-current="step"] th').textContent(), '2');
  await page.getByRole('table', { name: 'Status tracker' }).waitFor();
  await shot('trace-replay');
});

test('keyboard: the Service list is walked with the arrow keys and a Service opened with Enter', async () => {
  await page.getByLabel('Filter Services').fill('student-01/');
  const first = page.locator('[data-service] button').first();
  await first.focus();
  const from = await first.evaluate((b) => b.closest('[data-service]')!.getAttribute('data-service'));
  await page.keyboard.press('ArrowDown');
  const focused = await until('the focus on the next Service', async () => {
    const f = await page.evaluate('document.activeElement && document.activeElement.closest("[data-service]") && document.activeElement.closest("[data-service]").getAttribute("data-service")') as string | null;
    return f && f !== from ? f : undefined;
  }, 3000);
  await page.keyboard.press('Enter');
  await page.locator('[data-testid="svc-title"]', { hasText: focused! }).waitFor();
  // Every box of the path is a button with a spoken label.
  const labels = await page.locator('.box').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  assert.ok(labels.length > 0 && labels.every((l) => l.length > 5), JSON.stringify(labels));
  await shot('keyboard');
  await page.getByLabel('Filter Services').fill('');
});

test('clusterip ui: bad input and a cluster that is not there are clear errors', async () => {
  const flag = await c.cli(['ui', '--opne']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown flag: --opne.*did you mean --open\?/);
  const none = await runCli(['ui', '--name', 'no-such-cluster-ui']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no cluster named "no-such-cluster-ui"/);
  const ctx = await c.cli(['ui', '--kubeconfig', join(c.dir, 'kubeconfig'), '--context', 'nope']);
  assert.equal(ctx.code, 1);
  assert.match(ctx.stderr, /context "nope" not found/);
});

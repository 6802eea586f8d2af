/**
 * Headless Chromium for the web view's tests and bench: Debian's /usr/bin/chromium driven by
 * playwright-core, with a fresh profile directory per browser. The browser runs in the host's
 * namespace and talks only to the API server on 127.0.0.1. `close()` ends it (and, should
 * Playwright fail to, only the processes started with this profile directory) and removes the
 * profile; it is registered with the test's `after`, so it runs on failure too.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CIP_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '..', '..');

/** Where a test's screenshots go: test-output/<suite>/ in the checkout (ignored by git), or $CIP_TEST_OUTPUT/<suite>/. */
export function outputDir(suite: string): string {
  const dir = join(process.env.CIP_TEST_OUTPUT ?? join(ROOT, 'test-output'), suite);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab. */
  page(): Promise<Page>;
  close(): Promise<void>;
}

/** The pids of processes whose command line mentions `needle` (our profile directory). */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d)); } catch { /* gone */ }
  }
  return out;
}

export async function launchBrowser(after: (fn: () => Promise<void>) => void, opts: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'cip-ui-chromium-'));
  let closed: Promise<void> | undefined;
  let context: BrowserContext | undefined;
  const close = (): Promise<void> => closed ??= (async () => {
    await context?.close().catch(() => undefined);
    for (const pid of processesWith(profile)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await rm(profile, { recursive: true, force: true });
  })();
  after(close);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    // The API server's certificate is the cluster's own CA's.
    ignoreHTTPSErrors: true,
    viewport: opts.viewport ?? { width: 1600, height: 1000 },
  });
  return { context, page: () => context!.newPage(), close };
}

/**
 * The page's files, built by scripts/build.mjs (esbuild) into dist/ui/ — HTML, the bundled
 * scripts (Preact, elkjs, TanStack Virtual inside them), CSS and the ELK layout worker. Nothing is
 * fetched from anywhere else at run time (no CDN): the page works offline.
 * Files are read once and kept in memory with a content hash as ETag.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/ui/ of this package: src/ui/assets.ts and its bundled form (dist/ui/assets.js, see build.mjs) are both two levels below the root. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export class Assets {
  private readonly cache = new Map<string, Asset | null>();

  constructor(readonly dir: string = DEFAULT_ASSETS_DIR) {}

  /** Whether the page was built (dist/ui/index.html exists). */
  get built(): boolean {
    return existsSync(join(this.dir, 'index.html'));
  }

  /** A file under the assets directory by its relative path; undefined when absent or outside it. */
  get(rel: string): Asset | undefined {
    const hit = this.cache.get(rel);
    if (hit !== undefined) return hit ?? undefined;
    const path = normalize(join(this.dir, rel));
    if (!path.startsWith(normalize(this.dir + sep)) || !TYPES[extname(path)]) { this.cache.set(rel, null); return undefined; }
    let body: Buffer;
    try { body = readFileSync(path); } catch { this.cache.set(rel, null); return undefined; }
    const a = { body, type: TYPES[extname(path)]!, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    this.cache.set(rel, a);
    return a;
  }
}

#!/usr/bin/env node
// Builds dist/: the `clusterip` command (dist/cli/main.js, the package's bin) and the cluster DNS
// server (dist/dns/main.js, what the clusterip/dns image runs), each bundled with esbuild into a few
// ES modules instead of ~200 files, because resolving and compiling the files one by one was most of
// the CLI's start-up (~260 ms for `clusterip --help`, ~60 ms for `node -e 0`). Code shared by the
// entry points and code loaded on demand (each subcommand, the cluster itself) goes into
// dist/chunks/, so `--help` or the parent of `up --detach` never loads the API server.
// Type checking is `npm run typecheck` (tsc); this only transforms. Runs at `npm ci` (prepare).
import { build } from 'esbuild';
import { copyFile, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
// `--outdir <dir>` builds elsewhere (bench/cluster builds a private copy; dist/ is shared).
const at = process.argv.indexOf('--outdir');
const OUT = at > 0 ? resolve(process.argv[at + 1]) : join(ROOT, 'dist');

/**
 * In a bundle `import.meta.url` is the bundle's URL, not the source file's. A module that finds
 * files relative to itself (src/node/images/catalog.ts) must see the URL its own compiled file would
 * have, dist/<dir>/<file>.js. Every output file sits one directory below dist/ (dist/cli, dist/dns,
 * dist/chunks), so that URL is `../<dir>/<file>.js` relative to whichever file the code lands in.
 */
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const asDist = relative(join(ROOT, 'src'), args.path).replace(/\.ts$/, '.js');
      const rel = JSON.stringify(`../${asDist}`);
      return { contents: text.replaceAll('import.meta.url', `new URL(${rel}, import.meta.url).href`), loader: 'ts', resolveDir: dirname(args.path) };
    });
  },
};

/**
 * The web view (src/ui/web) for the browser: dist/ui/{index,login}.html and dist/ui/assets/ — the
 * page's script (Preact, TanStack Virtual; elkjs's API split into a chunk loaded on first use), the
 * login script, the styles and ELK's layout worker. Everything the page loads is here: no CDN.
 */
async function buildUi() {
  const ui = join(OUT, 'ui');
  await rm(ui, { recursive: true, force: true });
  await build({
    entryPoints: { app: join(ROOT, 'src/ui/web/app.tsx'), login: join(ROOT, 'src/ui/web/login.ts'), 'app-style': join(ROOT, 'src/ui/web/app.css'), 'login-style': join(ROOT, 'src/ui/web/login.css') },
    outdir: join(ui, 'assets'),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true, splitting: true, format: 'esm', platform: 'browser', target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic', jsxImportSource: 'preact', minify: true, sourcemap: true, legalComments: 'linked', logLevel: 'warning',
  });
  await rename(join(ui, 'assets', 'app-style.css'), join(ui, 'assets', 'app.css'));
  await rename(join(ui, 'assets', 'login-style.css'), join(ui, 'assets', 'login.css'));
  await copyFile(join(ROOT, 'node_modules/elkjs/lib/elk-worker.min.js'), join(ui, 'assets', 'elk-worker.js'));
  for (const f of ['index.html', 'login.html']) await copyFile(join(ROOT, 'src/ui/web', f), join(ui, f));
}

// `--ui-only` rebuilds only dist/ui (the web view's browser tests and bench run it first).
if (process.argv.includes('--ui-only')) {
  await buildUi();
  process.exit(0);
}

await rm(OUT, { recursive: true, force: true });
await build({
  entryPoints: {
    'cli/main': join(ROOT, 'src/cli/main.ts'), 'dns/main': join(ROOT, 'src/dns/main.ts'),
    // The kubectl plugin (`kubectl clusterip ...`): the same commands, defaults from kubectl's context.
    'cli/kubectl-clusterip': join(ROOT, 'src/cli/kubectl-clusterip.ts'),
  },
  outdir: OUT,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ES module builds first where a package has one (@peculiar/x509's tree-shakes; its CommonJS build is one 740 kB file).
  mainFields: ['module', 'main'],
  sourcemap: true,
  // Native addon (better-sqlite3) and ws's optional native helpers stay in node_modules; so does
  // cron-parser, required on a cluster's first CronJob schedule (src/api/schedule.ts), not at start.
  external: ['better-sqlite3', 'bufferutil', 'utf-8-validate', 'cron-parser'],
  // Bundled CommonJS packages call require() for Node's built-ins.
  banner: { js: "import { createRequire as __cipCreateRequire } from 'node:module'; const require = __cipCreateRequire(import.meta.url);" },
  plugins: [importMetaUrl],
  // Without comments and indentation V8 has a third less source to scan and keep in memory (it
  // keeps every module's source for lazy compilation), and no comment's "→" or "–" makes it store
  // a whole chunk as two-byte text: the daemon's heap is ~3 MB smaller and it loads ~10 ms faster
  // (bench/cluster). Names stay, so stack traces still name functions; the source maps place them.
  minifyWhitespace: true,
  logLevel: 'warning',
});
await buildUi();

/**
 * No import cycles between the top-level folders of src/ (api, storage, client, apiserver, ...):
 * the folders form layers, and a cycle between two of them means neither can be understood, tested
 * or run without the other. The graph covers every product source file, `import type` included (a
 * type-only import still ties the folders together). Tests are left out: a test beside the code of
 * a lower layer may start the real upper one (client/http.test.ts starts a real API server).
 *
 * Why a scan and not a library: esbuild's metafile drops type-only imports, and madge needs a
 * TypeScript parser dependency and reports file cycles, not folder cycles. The sources use ESM
 * specifiers only (`from '...'`, `import('...')`), so a scan of them is exact here; the test below
 * checks the scanner against known edges so a change of style cannot silently empty the graph.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Product source files under `dir` (no tests, no declaration files). */
function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.(ts|mts|mjs|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative module specifiers of a source text: static imports/exports (type-only too) and dynamic imports. */
export function importSpecifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out: string[] = [];
  const re = /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g;
  for (let m = re.exec(code); m; m = re.exec(code)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out.filter((s) => s.startsWith('.'));
}

/** The folder graph: top-level folder → folders it imports, with one example file per edge. */
export function folderGraph(root: string): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sources(root)) {
    const from = relative(root, file).split(sep)[0]!;
    if (!relative(root, file).includes(sep)) continue; // files directly in src/ belong to no layer
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      const target = relative(root, resolve(dirname(file), spec));
      const to = target.split(sep)[0]!;
      if (to === from || to.startsWith('..') || !target.includes(sep)) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      if (!graph.get(from)!.has(to)) graph.get(from)!.set(to, relative(root, file));
    }
  }
  return graph;
}

/** Every cycle of the graph, each as a closed path `a → b → … → a`, found by depth-first search. */
export function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const found = new Map<string, string[]>();
  const visit = (node: string, path: string[]): void => {
    const i = path.indexOf(node);
    if (i >= 0) {
      const cyc = path.slice(i);
      // One entry per cycle whatever node it was entered from.
      const start = cyc.indexOf([...cyc].sort()[0]!);
      const canonical = [...cyc.slice(start), ...cyc.slice(0, start)];
      found.set(canonical.join('>'), [...canonical, canonical[0]!]);
      return;
    }
    for (const next of graph.get(node)?.keys() ?? []) visit(next, [...path, node]);
  };
  for (const node of graph.keys()) visit(node, []);
  return [...found.values()];
}

test('the import scanner sees every import form the sources use', () => {
  assert.deepEqual(importSpecifiers([
    "import type { A } from '../api/a.js';",
    "import { b,\n  c } from './b.js';",
    "export { d } from '../d.js';",
    "export type { E } from \"./e.js\";",
    "const f = await import('../f.js');",
    "import './side-effect.js';",
    "import x from 'node:fs';",
    "// import { no } from '../commented.js';",
    "/* import { no } from '../block.js'; */",
    "const url = 'http://example.com/x'; import { g } from './g.js';",
  ].join('\n')), ['../api/a.js', './b.js', '../d.js', './e.js', '../f.js', './side-effect.js', './g.js']);
});

test('cycle detection finds a cycle through three folders once, and none in a layered graph', () => {
  const g = (edges: [string, string][]) => {
    const m = new Map<string, Map<string, string>>();
    for (const [a, b] of edges) { if (!m.has(a)) m.set(a, new Map()); m.get(a)!.set(b, 'x'); }
    return m;
  };
  assert.deepEqual(cycles(g([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']])), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(cycles(g([['cli', 'cluster'], ['cluster', 'apiserver'], ['apiserver', 'client'], ['client', 'api'], ['apiserver', 'api']])), []);
});

test('no import cycle between the top-level folders of src/', () => {
  const graph = folderGraph(SRC);
  // The scan sees the layering it must see (a broken scanner would find no edges and no cycles).
  for (const [from, to] of [['apiserver', 'storage'], ['apiserver', 'client'], ['client', 'api'], ['cluster', 'apiserver'], ['controllers', 'client']]) {
    assert.ok(graph.get(from)?.has(to), `expected ${from} → ${to} in the import graph`);
  }
  const found = cycles(graph);
  const explain = found.map((c) => c.slice(0, -1).map((f, i) => `${f} → ${c[i + 1]} (e.g. ${graph.get(f)!.get(c[i + 1]!)})`).join('\n  ')).join('\n\n');
  assert.deepEqual(found, [], `import cycles between folders of src/:\n  ${explain}`);
});

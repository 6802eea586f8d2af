/**
 * "Did you mean": the names nearest to a mistyped one, and the Pod label sets nearest to a Service
 * selector that matches nothing (a typo such as `app=ngnix`, a missing label, another namespace).
 * Pure functions.
 */

/** Levenshtein distance (insert, delete, substitute; plus an adjacent swap counts 1, as typos do). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  // Optimal string alignment: rows i-2, i-1, i.
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/** Close enough to be a typo of each other: at most 2 edits, and fewer than half the letters. */
export function isTypo(a: string, b: string): boolean {
  if (a === b) return false;
  const d = editDistance(a.toLowerCase(), b.toLowerCase());
  return d <= 2 && d < Math.max(a.length, b.length) / 2 + (a.toLowerCase() === b.toLowerCase() ? 1 : 0);
}

/** A candidate name with where it lives. */
export interface NamedCandidate {
  namespace: string;
  name: string;
}

/**
 * The candidates nearest to `name` in `namespace`: the same name in other namespaces first, then
 * typos (by distance), then names that contain it or are contained in it. At most `limit`.
 */
export function nearestNames(name: string, namespace: string, candidates: readonly NamedCandidate[], limit = 3): NamedCandidate[] {
  const scored: { c: NamedCandidate; score: number }[] = [];
  const lower = name.toLowerCase();
  for (const c of candidates) {
    if (c.name === name && c.namespace === namespace) continue;
    const other = c.name.toLowerCase();
    let score: number;
    if (other === lower) score = 0;
    else if (isTypo(name, c.name)) score = 1 + editDistance(lower, other);
    else if (lower.length >= 3 && (other.includes(lower) || lower.includes(other))) score = 5 + Math.abs(other.length - lower.length) / 100;
    else continue;
    if (c.namespace !== namespace) score += 0.5;
    scored.push({ c, score });
  }
  scored.sort((a, b) => a.score - b.score || a.c.namespace.localeCompare(b.c.namespace) || a.c.name.localeCompare(b.c.name));
  return scored.slice(0, limit).map((s) => s.c);
}

/** How one selector requirement `key=value` relates to a Pod's labels. */
export type LabelDiff =
  | { kind: 'match'; key: string; value: string }
  | { kind: 'value'; key: string; want: string; have: string; typo: boolean }
  | { kind: 'key'; key: string; want: string; haveKey: string; have: string }
  | { kind: 'missing'; key: string; want: string };

/** Pods sharing one label set, compared with a selector. */
export interface NearLabelSet {
  labels: Record<string, string>;
  pods: string[];
  /** Owner of the first Pod (e.g. `ReplicaSet/web-5fd58b4b97`). */
  owner?: string;
  diffs: LabelDiff[];
  /** Selector requirements this label set fails. */
  mismatches: number;
}

/** One Pod for `nearestLabelSets`. */
export interface LabelledPod {
  name: string;
  labels: Record<string, string>;
  owner?: string;
}

/** Compares selector `key=value` pairs with one label set. */
export function diffLabels(selector: Record<string, string>, labels: Record<string, string>): LabelDiff[] {
  return Object.entries(selector).map(([key, want]): LabelDiff => {
    if (Object.prototype.hasOwnProperty.call(labels, key)) {
      const have = labels[key]!;
      return have === want ? { kind: 'match', key, value: want } : { kind: 'value', key, want, have, typo: isTypo(want, have) };
    }
    // A typo in the key itself (`ap=nginx`), or the value found under another key.
    const typoKey = Object.keys(labels).find((k) => isTypo(k, key) && (labels[k] === want || isTypo(labels[k]!, want)));
    if (typoKey) return { kind: 'key', key, want, haveKey: typoKey, have: labels[typoKey]! };
    return { kind: 'missing', key, want };
  });
}

/**
 * The label sets of `pods` nearest to `selector`, best first: fewest failed requirements, then
 * typos before other differences. Label sets that share no requirement and no typo with the
 * selector are left out (they are not "near"). At most `limit`.
 */
export function nearestLabelSets(selector: Record<string, string>, pods: readonly LabelledPod[], limit = 3): NearLabelSet[] {
  const groups = new Map<string, NearLabelSet>();
  for (const p of pods) {
    const key = JSON.stringify(Object.entries(p.labels).sort(([a], [b]) => a.localeCompare(b)));
    let g = groups.get(key);
    if (!g) {
      const diffs = diffLabels(selector, p.labels);
      g = { labels: p.labels, pods: [], owner: p.owner, diffs, mismatches: diffs.filter((d) => d.kind !== 'match').length };
      groups.set(key, g);
    }
    g.pods.push(p.name);
  }
  const near = [...groups.values()].filter((g) => g.mismatches > 0 && g.diffs.some((d) => d.kind === 'match' || d.kind === 'key' || (d.kind === 'value' && d.typo)));
  const weight = (g: NearLabelSet): number => g.mismatches * 10 - g.diffs.filter((d) => (d.kind === 'value' && d.typo) || d.kind === 'key').length;
  near.sort((a, b) => weight(a) - weight(b) || b.pods.length - a.pods.length);
  return near.slice(0, limit);
}

/** `app=web,tier=fe` */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const e = Object.entries(labels ?? {});
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

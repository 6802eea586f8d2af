/**
 * Scrape-format check for tests: a Prometheus text exposition (format 0.0.4) is parsed with the
 * npm parser `parse-prometheus-text-format` (prom2json-compatible) and, because that parser is
 * lenient about some malformed lines, every line is also checked against the format's grammar:
 * HELP and TYPE at most once per family and before its samples, sample lines
 * `name{label="value",...} value [timestamp]` with escaped label values, and histogram invariants
 * (cumulative buckets, `le="+Inf"` equal to `_count`). Throws an Error naming the first bad line.
 */
import parse from 'parse-prometheus-text-format';

export interface ScrapedFamily {
  name: string;
  type: string;
  help: string;
  /** One entry per label set: value (counter/gauge) or buckets/count/sum (histogram). */
  samples: { labels: Record<string, string>; value?: number; buckets?: Record<string, number>; count?: number; sum?: number }[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const VALUE = '(?:[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?)|[-+]?Inf|NaN)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}(?:,${LABEL})*,?)?)\\})? (${VALUE})(?: -?\\d+)?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Label pairs of a sample line's `{...}` part (values unescaped). */
function labelsOf(body: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body) return out;
  for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}

/** Parses and validates `text`; returns its families by name. */
export function scrape(text: string): Map<string, ScrapedFamily> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, ScrapedFamily & { sampled: boolean; helpSeen: boolean; typeSeen: boolean }>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, f = { name, type: 'untyped', help: '', samples: [], sampled: false, helpSeen: false, typeSeen: false });
    return f;
  };
  const familyOf = (sample: string) => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (!sample.endsWith(suffix)) continue;
      const f = families.get(sample.slice(0, -suffix.length));
      if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return { f, suffix };
    }
    return { f: family(sample), suffix: '' };
  };
  const histo = new Map<string, { labels: Record<string, string>; buckets: Record<string, number>; count?: number; sum?: number }>();
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!new RegExp(`^${NAME}$`).test(name!)) throw new Error(`bad metric name, ${where}`);
      const f = family(name!);
      if (f.sampled) throw new Error(`${kind} after samples, ${where}`);
      if (kind === 'HELP') { if (f.helpSeen) throw new Error(`second HELP, ${where}`); f.helpSeen = true; f.help = rest!; }
      else { if (f.typeSeen) throw new Error(`second TYPE, ${where}`); if (!TYPES.has(rest!)) throw new Error(`unknown TYPE, ${where}`); f.typeSeen = true; f.type = rest!; }
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line, ${where}`);
    const name = m[1]!;
    const labels = labelsOf(m[2]);
    const value = Number(m[3]!.replace(/^\+?Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity'));
    const { f, suffix } = familyOf(name);
    f.sampled = true;
    if (f.type !== 'histogram') { f.samples.push({ labels, value }); return; }
    const { le, ...rest } = labels;
    const key = `${f.name}|${JSON.stringify(Object.entries(rest).sort())}`;
    let h = histo.get(key);
    if (!h) { histo.set(key, h = { labels: rest, buckets: {} }); f.samples.push(h); }
    if (suffix === '_bucket') { if (le === undefined) throw new Error(`bucket without le, ${where}`); h.buckets[le] = value; }
    else if (suffix === '_count') h.count = value;
    else if (suffix === '_sum') h.sum = value;
    else throw new Error(`histogram sample without _bucket/_sum/_count, ${where}`);
  });
  for (const f of families.values()) {
    if (f.type !== 'histogram') continue;
    for (const s of f.samples) {
      const buckets = s.buckets!;
      const bounds = Object.keys(buckets).filter((k) => k !== '+Inf').map(Number).sort((a, b) => a - b);
      let prev = 0;
      for (const b of bounds) {
        if (buckets[String(b)]! < prev) throw new Error(`${f.name}: bucket le=${b} is not cumulative`);
        prev = buckets[String(b)]!;
      }
      if (buckets['+Inf'] === undefined || buckets['+Inf'] !== s.count || s.sum === undefined) throw new Error(`${f.name}${JSON.stringify(s.labels)}: needs le="+Inf" equal to _count, and _sum`);
      if (prev > s.count!) throw new Error(`${f.name}: a bucket exceeds _count`);
    }
  }
  // The prom2json-compatible npm parser must accept the text too and see the same families and types.
  const parsed = parse(text);
  for (const p of parsed) {
    const mine = families.get(p.name);
    if (!mine || mine.type !== p.type.toLowerCase()) throw new Error(`parse-prometheus-text-format disagrees about ${p.name} (${p.type})`);
  }
  const out = new Map<string, ScrapedFamily>();
  for (const [name, f] of families) if (f.sampled || f.typeSeen) out.set(name, { name, type: f.type, help: f.help, samples: f.samples });
  return out;
}

/** The value (or histogram count) of the sample of `family` whose labels include `labels`; 0 when absent. */
export function sampleValue(families: Map<string, ScrapedFamily>, family: string, labels: Record<string, string> = {}): number {
  const f = families.get(family);
  const s = f?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  if (!s) return 0;
  return s.count ?? s.value ?? 0;
}

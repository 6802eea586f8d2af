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
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(?:${LABEL}(?:,${LABEL})*,?)?\\})? ${VALUE}(?: -?\\d+)?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses and validates `text`; returns its families by name. */
export function scrape(text: string): Map<string, ScrapedFamily> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const declared = new Map<string, { help: boolean; type?: string; sampled: boolean }>();
  const familyOf = (sample: string): string => {
    for (const suffix of ['_bucket', '_sum', '_count', '']) {
      const base = suffix && sample.endsWith(suffix) ? sample.slice(0, -suffix.length) : sample;
      const d = declared.get(base);
      if (d && (suffix === '' || d.type === 'histogram' || d.type === 'summary')) return base;
    }
    return sample;
  };
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!new RegExp(`^${NAME}$`).test(name!)) throw new Error(`bad metric name, ${where}`);
      const d = declared.get(name!) ?? { help: false, sampled: false };
      if (d.sampled) throw new Error(`${kind} after samples, ${where}`);
      if (kind === 'HELP') { if (d.help) throw new Error(`second HELP, ${where}`); d.help = true; }
      else { if (d.type) throw new Error(`second TYPE, ${where}`); if (!TYPES.has(rest!)) throw new Error(`unknown TYPE, ${where}`); d.type = rest; }
      declared.set(name!, d);
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line, ${where}`);
    const d = declared.get(familyOf(m[1]!));
    if (d) d.sampled = true;
  });
  const out = new Map<string, ScrapedFamily>();
  for (const f of parse(text)) {
    const fam: ScrapedFamily = { name: f.name, type: f.type.toLowerCase(), help: f.help, samples: [] };
    for (const s of f.metrics) {
      if (f.type === 'HISTOGRAM') {
        const buckets = Object.fromEntries(Object.entries(s.buckets ?? {}).map(([k, v]) => [k, Number(v)]));
        const bounds = Object.keys(buckets).filter((k) => k !== '+Inf').map(Number).sort((a, b) => a - b);
        let prev = 0;
        for (const b of bounds) {
          if (buckets[String(b)]! < prev) throw new Error(`${f.name}: bucket le=${b} is not cumulative`);
          prev = buckets[String(b)]!;
        }
        if (buckets['+Inf'] === undefined || buckets['+Inf'] !== Number(s.count)) throw new Error(`${f.name}: le="+Inf" bucket differs from _count`);
        fam.samples.push({ labels: s.labels ?? {}, buckets, count: Number(s.count), sum: Number(s.sum) });
      } else {
        fam.samples.push({ labels: s.labels ?? {}, value: Number(s.value) });
      }
    }
    out.set(f.name, fam);
  }
  return out;
}

/** The value (or histogram count) of the sample of `family` whose labels include `labels`; 0 when absent. */
export function sampleValue(families: Map<string, ScrapedFamily>, family: string, labels: Record<string, string> = {}): number {
  const f = families.get(family);
  const s = f?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  if (!s) return 0;
  return s.count ?? s.value ?? 0;
}

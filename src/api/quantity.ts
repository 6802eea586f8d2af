/**
 * Resource quantities (k8s.io/apimachinery/pkg/api/resource.Quantity) as numbers: `100m` → 0.1,
 * `1.5` → 1.5, `128Mi` → 134217728, `1e3` → 1000; and the canonical text Kubernetes prints for CPU
 * (millicores, `250m`) and memory (binary suffixes, `12Mi`, else bytes). Only what the metrics API
 * and the autoscaler need: parsing of every suffix, formatting of cores and bytes.
 */

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity (a number passes through); undefined when it is not one. */
export function parseQuantity(q: string | number | undefined | null): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  return n * SUFFIX[m[3] ?? '']!;
}

/** CPU in cores → Kubernetes' text: whole millicores (`250m`, `0`), or whole cores when exact (`2`). */
export function formatCpu(cores: number): string {
  const milli = Math.round(cores * 1000);
  if (milli % 1000 === 0) return String(milli / 1000);
  return `${milli}m`;
}

/** Bytes → Kubernetes' text: `Ki`/`Mi`/`Gi` when exact, else bytes (metrics-server reports Ki). */
export function formatBytes(bytes: number): string {
  const b = Math.round(bytes);
  for (const [s, f] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (b !== 0 && b % f === 0) return `${b / f}${s}`;
  return String(b);
}

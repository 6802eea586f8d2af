/**
 * Kubernetes resource quantities ("100m", "1.5", "128Mi", "1e3", "2G") as numbers of base units,
 * enough for the downward API's `resourceFieldRef` (limits and requests divided by a divisor,
 * rounded up as the kubelet does). Hand-written: the grammar is small and fixed
 * (apimachinery/pkg/api/resource), and no maintained npm package implements it.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The value of `q` in base units (cores, bytes); undefined when it is not a quantity. */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[3] !== undefined) return n * 10 ** Number(m[3]);
  const suffix = m[2] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix]!);
}

/**
 * ExtractContainerResourceValue's arithmetic: `value / divisor` rounded up; cpu is computed in
 * millicores (so "250m" with divisor "1" is 1, with "1m" is 250). The string the kubelet writes.
 */
export function divideQuantity(resource: string, value: number, divisor: number): string {
  if (divisor <= 0) divisor = 1;
  if (resource.endsWith('cpu')) return String(Math.ceil(Math.round(value * 1000) / Math.round(divisor * 1000)));
  return String(Math.ceil(value / divisor));
}

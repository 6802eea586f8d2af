/**
 * The downward API's `resourceFieldRef` arithmetic (quantities are parsed by src/api/quantity.ts).
 */

/**
 * ExtractContainerResourceValue's arithmetic: `value / divisor` rounded up; cpu is computed in
 * millicores (so "250m" with divisor "1" is 1, with "1m" is 250). The string the kubelet writes.
 */
export function divideQuantity(resource: string, value: number, divisor: number): string {
  if (divisor <= 0) divisor = 1;
  if (resource.endsWith('cpu')) return String(Math.ceil(Math.round(value * 1000) / Math.round(divisor * 1000)));
  return String(Math.ceil(value / divisor));
}

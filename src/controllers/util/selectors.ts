/**
 * Label selector matching as Kubernetes defines it (k8s.io/apimachinery/pkg/labels): a Service's
 * plain `map[string]string` selector and the richer `metav1.LabelSelector` of workloads.
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

type Labels = Record<string, string> | undefined;

/**
 * True when `labels` satisfy a Service-style selector. An empty or missing selector matches
 * nothing here, because a Service without a selector has user-managed endpoints.
 */
export function matchesServiceSelector(selector: Labels, labels: Labels): boolean {
  if (!selector) return false;
  const keys = Object.keys(selector);
  if (keys.length === 0) return false;
  for (const k of keys) if (labels?.[k] !== selector[k]) return false;
  return true;
}

/**
 * True when `labels` satisfy a metav1.LabelSelector. Following metav1.LabelSelectorAsSelector, an
 * empty selector matches everything and a missing one matches nothing.
 */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels?.[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, req.key);
    const val = has ? labels![req.key] : undefined;
    switch (req.operator) {
      case 'In': if (!has || !(req.values ?? []).includes(val!)) return false; break;
      case 'NotIn': if (has && (req.values ?? []).includes(val!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** The `k=v` pairs every matching object must carry (used to look candidates up in a label index). */
export function requiredPairs(selector: LabelSelector | Record<string, string> | undefined): string[] {
  if (!selector) return [];
  const ml = ('matchLabels' in selector || 'matchExpressions' in selector)
    ? (selector as LabelSelector).matchLabels ?? {}
    : selector as Record<string, string>;
  return Object.entries(ml).map(([k, v]) => `${k}=${v}`);
}

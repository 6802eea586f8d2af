/**
 * Image garbage collection, the decision (pure): the kubelet's image GC manager (pkg/kubelet/images
 * image_gc_manager.go). When the image filesystem is at or above `highThresholdPercent` used,
 * enough images are freed to bring it down to `lowThresholdPercent`: only images no container
 * uses, at least `minAgeMs` old, least recently used first (then oldest).
 */

/** The kubelet's knobs (defaults 85 %, 80 %, 2 minutes: KUBELET_GC_POLICY in store.ts). */
export interface GCPolicy {
  highThresholdPercent: number;
  lowThresholdPercent: number;
  minAgeMs: number;
}

/** What the decision needs about one image. */
export interface GCImage {
  digest: string;
  lastUsed: number;
  created: number;
  inUse: boolean;
  /** Bytes deleting it would free. */
  bytes: number;
}

/** Which images to delete, and what that frees. */
export interface GCPlan {
  remove: string[];
  freed: number;
  usagePercent: number;
  /** Bytes the kubelet wanted to free (0 below the high threshold). */
  wanted: number;
}

/** Validates a policy as the kubelet's config validation does. */
export function checkGCPolicy(p: GCPolicy): void {
  if (!(p.highThresholdPercent >= 0 && p.highThresholdPercent <= 100)) throw new Error(`image GC high threshold must be between 0 and 100, not ${p.highThresholdPercent}`);
  if (!(p.lowThresholdPercent >= 0 && p.lowThresholdPercent <= 100)) throw new Error(`image GC low threshold must be between 0 and 100, not ${p.lowThresholdPercent}`);
  if (p.lowThresholdPercent > p.highThresholdPercent) {
    throw new Error(`image GC low threshold (${p.lowThresholdPercent}) must not be above the high threshold (${p.highThresholdPercent})`);
  }
}

/** Decides (see the module comment). */
export function planImageGC(images: readonly GCImage[], fsStats: { capacity: number; available: number }, policy: GCPolicy, now: number): GCPlan {
  checkGCPolicy(policy);
  const { capacity, available } = fsStats;
  const usagePercent = capacity > 0 ? Math.round(100 - (available * 100) / capacity) : 0;
  if (capacity <= 0 || usagePercent < policy.highThresholdPercent) return { remove: [], freed: 0, usagePercent, wanted: 0 };
  const wanted = Math.ceil((capacity * (100 - policy.lowThresholdPercent)) / 100 - available);
  const candidates = images
    .filter((i) => !i.inUse && now - i.created >= policy.minAgeMs)
    .sort((a, b) => a.lastUsed - b.lastUsed || a.created - b.created);
  const remove: string[] = [];
  let freed = 0;
  for (const i of candidates) {
    if (freed >= wanted) break;
    remove.push(i.digest);
    freed += i.bytes;
  }
  return { remove, freed, usagePercent, wanted };
}

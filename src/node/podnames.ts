/**
 * The kernel-visible names the agent derives for a Pod. The CLI chooses the cluster id prefix and
 * the node namespace name; per-Pod names are a short hash of the Pod UID so they are stable across
 * agent restarts and fit the kernel's 15-character interface-name limit.
 */
import { createHash } from 'node:crypto';

/** 8 hex characters identifying a Pod (from its UID). */
export function podHash(uid: string): string {
  return createHash('sha256').update(uid).digest('hex').slice(0, 8);
}

/** The Pod's network namespace: `<idPrefix>-p<8 hex>`, e.g. `cip-c1a2-p0badf00d`. */
export function podNetnsName(idPrefix: string, uid: string): string {
  return `${idPrefix}-p${podHash(uid)}`;
}

/** The node-side veth of a Pod: `vp<8 hex>` (10 chars, under the 15-char limit). */
export function podVethName(uid: string): string {
  return `vp${podHash(uid)}`;
}

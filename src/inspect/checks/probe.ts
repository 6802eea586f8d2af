/**
 * The probe itself: when it cannot be placed (no node fits, no address left in a Pod CIDR, the
 * namespace is terminating), that is its own finding — the checks that need it are skipped, and
 * none of it is blamed on the Service.
 */
import type { DiagnoseFacts } from '../diagnosefacts.js';
import type { Finding } from '../types.js';
import { finding } from './common.js';

export function checkProbe(f: DiagnoseFacts): Finding[] {
  const p = f.probe;
  if (p.placed) return [];
  if ('skipped' in p) return [finding('probe', 'skip', 'ProbeSkipped', `no probe Pod: ${p.reason}`)];
  return [finding('probe', 'fail', 'ProbeNotPlaced', `the probe Pod could not be placed in namespace ${f.from}: the checks that need it were skipped (this is not the Service's fault)`, [p.reason],
    ['kubectl get nodes', `kubectl get events -n ${f.from} --field-selector involvedObject.kind=Pod`])];
}

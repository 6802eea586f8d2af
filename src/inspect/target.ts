/**
 * What to explain or diagnose: `svc/NAME`, `service/NAME`, `pod/NAME` (kubectl's `kind/name`
 * spelling and short names) or a bare `NAME`, which means a Service.
 */
import { InspectError } from './errors.js';
import { editDistance } from './nearest.js';

export interface Target {
  kind: 'service' | 'pod';
  name: string;
}

const KINDS: Record<string, Target['kind']> = {
  svc: 'service', service: 'service', services: 'service',
  po: 'pod', pod: 'pod', pods: 'pod',
};

/** A DNS-1123 label (Service names) or subdomain (Pod names). */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Parses `kind/name`; throws InspectError BadTarget naming the nearest kind on a typo. */
export function parseTarget(arg: string | undefined, allowed: readonly Target['kind'][] = ['service', 'pod']): Target {
  const usage = `expected ${allowed.map((k) => (k === 'service' ? 'svc/NAME' : 'pod/NAME')).join(' or ')}`;
  if (!arg) throw new InspectError('BadTarget', `no object given: ${usage}`);
  const slash = arg.indexOf('/');
  const kindText = slash < 0 ? 'svc' : arg.slice(0, slash).toLowerCase();
  const name = slash < 0 ? arg : arg.slice(slash + 1);
  const kind = KINDS[kindText];
  if (!kind || !allowed.includes(kind)) {
    const known = Object.keys(KINDS).filter((k) => allowed.includes(KINDS[k]!));
    const near = known.filter((k) => editDistance(k, kindText) <= 2).sort((a, b) => editDistance(a, kindText) - editDistance(b, kindText));
    throw new InspectError('BadTarget', `unknown kind ${JSON.stringify(kindText)} in ${JSON.stringify(arg)}: ${usage}` +
      (near.length ? ` (did you mean ${near[0]}/${name}?)` : ''), near.map((k) => `${k}/${name}`));
  }
  if (!name) throw new InspectError('BadTarget', `no name after ${JSON.stringify(`${kindText}/`)}: ${usage}`);
  if (name.includes('/') || !NAME.test(name) || name.length > 253) {
    throw new InspectError('BadTarget', `${JSON.stringify(name)} is not a valid ${kind === 'service' ? 'Service' : 'Pod'} name (lower-case letters, digits, '-' and '.')`);
  }
  return { kind, name };
}

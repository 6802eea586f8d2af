import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../api/resources.js';
import { invalid } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { applyDefaults } from './defaults.js';
import { validateObject } from './validation.js';

const np = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'np', namespace: 'default' }, spec } as unknown as KubeObject);

/** The Status message kube-apiserver would give for `spec` (defaulted first, as the registry does). */
function message(spec: Record<string, unknown>): string {
  const o = applyDefaults(R.networkpolicies, np(structuredClone(spec)));
  const errs = validateObject(R.networkpolicies, o);
  return errs.length === 0 ? '' : invalid('NetworkPolicy', 'networking.k8s.io', 'np', errs).message;
}

test('defaults: policyTypes from the rules, TCP ports, an omitted podSelector selects all', () => {
  const a = applyDefaults(R.networkpolicies, np({ ingress: [{ ports: [{ port: 80 }] }] })) as unknown as { spec: Record<string, unknown> };
  assert.deepEqual(a.spec, { ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }], policyTypes: ['Ingress'], podSelector: {} });
  const b = applyDefaults(R.networkpolicies, np({ podSelector: {}, egress: [{}] })) as unknown as { spec: Record<string, unknown> };
  assert.deepEqual(b.spec.policyTypes, ['Ingress', 'Egress']);
  const c = applyDefaults(R.networkpolicies, np({ podSelector: {}, policyTypes: ['Egress'] })) as unknown as { spec: Record<string, unknown> };
  assert.deepEqual(c.spec.policyTypes, ['Egress']);
});

const P = 'NetworkPolicy.networking.k8s.io "np" is invalid: ';
const table: { name: string; spec: Record<string, unknown>; want: string }[] = [
  { name: 'default deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }, want: '' },
  { name: 'full rule', spec: {
    podSelector: { matchLabels: { app: 'web' } },
    ingress: [{ from: [{ podSelector: {}, namespaceSelector: { matchLabels: { team: 'a' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
      ports: [{ port: 'http' }, { port: 8000, endPort: 8100, protocol: 'UDP' }, { protocol: 'SCTP' }] }],
  }, want: '' },
  { name: 'bad protocol', spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP', port: 1 }] }] },
    want: `${P}spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"` },
  { name: 'port out of range', spec: { podSelector: {}, egress: [{ ports: [{ port: 70000 }] }] },
    want: `${P}spec.egress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive` },
  { name: 'endPort below port', spec: { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] },
    want: `${P}spec.ingress[0].ports[0].endPort: Invalid value: 90: must be greater than or equal to \`port\`` },
  { name: 'endPort with a named port', spec: { podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 80 }] }] },
    want: `${P}spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when \`port\` is non-numeric` },
  { name: 'endPort without port', spec: { podSelector: {}, ingress: [{ ports: [{ endPort: 80 }] }] },
    want: `${P}spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when \`port\` is not specified` },
  { name: 'bad port name', spec: { podSelector: {}, ingress: [{ ports: [{ port: "ht_p" }] }] },
    want: `${P}spec.ingress[0].ports[0].port: Invalid value: "ht_p": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)` },
  { name: 'empty peer', spec: { podSelector: {}, ingress: [{ from: [{}] }] },
    want: `${P}spec.ingress[0].from[0]: Required value: must specify a peer` },
  { name: 'ipBlock beside a selector', spec: { podSelector: {}, egress: [{ to: [{ podSelector: {}, ipBlock: { cidr: '10.0.0.0/8' } }] }] },
    want: `${P}spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer` },
  { name: 'bad cidr', spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] },
    want: `${P}spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)` },
  { name: 'except not inside', spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24', '10.0.0.0/16'] } }] }] },
    want: `${P}[spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of \`cidr\`, spec.egress[0].to[0].ipBlock.except[1]: Invalid value: "10.0.0.0/16": must be a strict subset of \`cidr\`]` },
  { name: 'bad policyType', spec: { podSelector: {}, policyTypes: ['Both'] },
    want: `${P}spec.policyTypes[0]: Unsupported value: "Both": supported values: "Ingress", "Egress"` },
  { name: 'bad selector', spec: { podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
    want: `${P}spec.podSelector.matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'` },
];

for (const c of table) {
  test(`validation: ${c.name}`, () => assert.equal(message(c.spec), c.want));
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServiceExplanation, serviceView } from './explain.js';
import { renderServiceExplanation } from './explaintext.js';
import { parseNftTable } from './nfttext.js';
import { nftRulesForService } from './nftservice.js';
import { cluster, pod, service, slice } from './testing/fixtures.js';
import { serviceDnsQuestions } from './dnsnames.js';
import type { ListenerView } from './types.js';

test('serviceView applies the API defaults and tells the kinds apart', () => {
  const v = serviceView(service('web', { selector: { app: 'web' }, ports: [{ port: 80 }], sessionAffinity: 'ClientIP' }));
  assert.deepEqual(v.ports, [{ name: '', protocol: 'TCP', port: 80, targetPort: 80 }]);
  assert.equal(v.affinityTimeoutSeconds, 10800);
  assert.equal(serviceView(service('h', { clusterIP: 'None', ports: [] })).headless, true);
  assert.equal(serviceView(service('h', { clusterIP: 'None', ports: [] })).clusterIP, undefined);
  assert.deepEqual(serviceView(service('n', { ports: [{ port: 80, targetPort: '8080' }] })).ports[0]!.targetPort, 8080, 'a numeric string is a number');
  assert.equal(serviceView(service('s', { selector: {}, ports: [] })).selector, undefined, 'an empty selector is no selector');
});

test('DNS questions: short, namespaced, FQDN, SRV per named port, headless endpoints by hostname or dashed IP', () => {
  const v = serviceView(service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] }));
  const q = serviceDnsQuestions(v, 'cluster.local', [
    { addresses: ['10.244.0.5'], ready: true, serving: true, terminating: false, hostname: 'db-0', pod: 'db-0' },
    { addresses: ['10.244.0.6'], ready: true, serving: true, terminating: false },
    { addresses: ['10.244.0.7'], ready: false, serving: false, terminating: false },
  ]);
  assert.deepEqual(q.map((x) => `${x.form} ${x.type} ${x.name} ${x.query}`), [
    'short A db db.shop.svc.cluster.local',
    'namespaced A db.shop db.shop.svc.cluster.local',
    'fqdn A db.shop.svc.cluster.local db.shop.svc.cluster.local',
    'srv SRV _pg._tcp.db.shop.svc.cluster.local _pg._tcp.db.shop.svc.cluster.local',
    'endpoint A db-0.db.shop.svc.cluster.local db-0.db.shop.svc.cluster.local',
    'endpoint A 10-244-0-6.db.shop.svc.cluster.local 10-244-0-6.db.shop.svc.cluster.local',
  ]);
});

test('the explanation: Pods with the port targetPort resolves to and what listens, endpoints with why, counters from the kernel', () => {
  const table = parseNftTable(readFileSync(join(import.meta.dirname, 'testdata', 'nft-list-table.txt'), 'utf8'));
  const svc = service('nginx-service-01', { clusterIP: '10.108.177.126', selector: { app: 'nginx-01' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] }, 'student-01');
  const ports = serviceView(svc).ports;
  const mk = (name: string, ip: string, ready = true) => pod(name, { app: 'nginx-01' }, { ip, ready, namespace: 'student-01', ports: [{ name: 'http', containerPort: 80 }] });
  const pods = [mk('a', '10.244.0.3'), mk('b', '10.244.0.4'), mk('c', '10.244.0.5', false), pod('other', { app: 'x' }, { namespace: 'student-01' })];
  const listeners = new Map<string, ListenerView[] | Error>([
    ['netns-a', [{ protocol: 'TCP', address: '0.0.0.0', port: 80, process: 'nginx' }]],
    ['netns-b', [{ protocol: 'TCP', address: '127.0.0.1', port: 80, process: 'nginx' }]],
    ['netns-c', new Error('cannot read sockets in network namespace netns-c: gone')],
  ]);
  const picked = nftRulesForService(table, '10.108.177.126', ports);
  const e = buildServiceExplanation(cluster, {
    service: svc, pods, events: [],
    slices: [slice('nginx-service-01', [{ name: 'http', port: 80 }], [{ ip: '10.244.0.3', pod: 'a' }, { ip: '10.244.0.4', pod: 'b' }, { ip: '10.244.0.5', pod: 'c', ready: false }], 'student-01')],
  }, { rules: [{ node: 'test-node', netns: 'cip-t-n0', mode: 'nftables', ...picked }], listeners, dns: [] }, new Date('2026-12-06T10:00:00Z'));
  assert.deepEqual(e.pods.map((p) => [p.name, p.ports[0]!.resolved, p.ports[0]!.listening]), [['a', 80, 'yes'], ['b', 80, 'loopback'], ['c', 80, 'unknown']]);
  assert.equal(e.slices[0]!.endpoints[2]!.why, 'container app running but not ready');
  assert.deepEqual(e.warnings, ['pod c: cannot read sockets in network namespace netns-c: gone']);
  const text = renderServiceExplanation(e);
  assert.match(text, /^Service student-01\/nginx-service-01  ClusterIP 10\.108\.177\.126  selector app=nginx-01  affinity None$/m);
  assert.match(text, /│   ✓ 10\.244\.0\.3  pod a  ready  4 conns$/m, 'the counter of the endpoint element for 10.244.0.3');
  assert.match(text, /│   ✗ 10\.244\.0\.5  pod c  not ready: container app running but not ready  1 conn$/m);
  assert.match(text, /port http: targetPort http → 80 \(container app\); LISTENS ON LOOPBACK ONLY \(127\.0\.0\.1:80\)/);
  assert.match(text, /│         10\.108\.177\.126 \. tcp \. 80 \. 0 counter packets 4 bytes 240 : 10\.244\.0\.3 \. 80$/m);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { planDeployment, ANNOTATION_REVISION } from './plan.js';
import { computeTemplateHash, LABEL_POD_TEMPLATE_HASH, templateWithoutHash } from './hash.js';
import { canonicalJson, fnv32a, safeEncodeString } from '../util/templatehash.js';

const now = new Date('2026-01-01T00:00:00Z');
function dep(image: string, replicas = 4, strategy: Deployment['spec'] extends infer S ? S extends { strategy?: infer T } ? T : never : never = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } }): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd1', generation: 2 },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, strategy, revisionHistoryLimit: 1,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
  };
}

/** Applies a plan to an in-memory set of ReplicaSets and makes every desired Pod available at once. */
function step(d: Deployment, rss: ReplicaSet[], instant = true): { rss: ReplicaSet[]; plan: ReturnType<typeof planDeployment> } {
  const plan = planDeployment(d, rss, now);
  let next = rss.map((r) => plan.update.find((u) => u.metadata?.name === r.metadata?.name) ?? r);
  if (plan.create) next.push({ ...plan.create, metadata: { ...plan.create.metadata, creationTimestamp: new Date(now.getTime() + next.length * 1000).toISOString() } });
  next = next.filter((r) => !plan.delete.some((x) => x.metadata?.name === r.metadata?.name));
  if (instant) next = next.map((r) => ({ ...r, status: { replicas: r.spec?.replicas ?? 0, readyReplicas: r.spec?.replicas, availableReplicas: r.spec?.replicas } }));
  d.status = plan.status;
  return { rss: next, plan };
}

test('hash is stable, short, from the safe alphabet, and changes with the template', () => {
  const a = computeTemplateHash(dep('nginx:1').spec!.template);
  assert.equal(a, computeTemplateHash(dep('nginx:1').spec!.template));
  assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
  assert.notEqual(a, computeTemplateHash(dep('nginx:2').spec!.template));
  assert.notEqual(a, computeTemplateHash(dep('nginx:1').spec!.template, 1));
});

test('hash is built as controller.ComputeHash: FNV-1a, collision count as 8 bytes, SafeEncodeString of the decimal sum', () => {
  // FNV-1a 32 reference values, and Go's hasher continuing over more bytes.
  assert.equal(fnv32a(''), 0x811c9dc5);
  assert.equal(fnv32a('a'), 0xe40c292c);
  assert.equal(fnv32a('foobar'), 0xbf9cf968);
  assert.equal(fnv32a('bar', fnv32a('foo')), fnv32a('foobar'));
  // rand.SafeEncodeString maps each byte into the alphabet: the digits become 4..9, b, c, d, f.
  assert.equal(safeEncodeString('1234567890'), '56789bcdf4');
  const t = dep('nginx:1').spec!.template;
  const base = fnv32a(canonicalJson(templateWithoutHash(t)));
  assert.equal(computeTemplateHash(t), safeEncodeString(String(base)));
  assert.equal(computeTemplateHash(t, 258), safeEncodeString(String(fnv32a(Uint8Array.of(2, 1, 0, 0, 0, 0, 0, 0), base))));
  // A count of 0 is "set" (a non-nil pointer in Go) and changes the hash; each count gives another.
  const hashes = new Set([computeTemplateHash(t), ...[0, 1, 2, 3, 4].map((n) => computeTemplateHash(t, n))]);
  assert.equal(hashes.size, 6);
  for (const h of hashes) assert.match(h, /^[456789bcdf]{1,10}$/);
  // The hash label itself never feeds the hash, and key order does not matter.
  const labelled = { ...t, metadata: { ...t!.metadata, labels: { [LABEL_POD_TEMPLATE_HASH]: 'x', ...t!.metadata!.labels } } };
  assert.equal(computeTemplateHash(labelled), computeTemplateHash(t));
  const reversed = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : Array.isArray(v) ? v.map(reversed) : v);
  assert.equal(computeTemplateHash(reversed(t) as typeof t), computeTemplateHash(t));
});

test('first sync creates the ReplicaSet with hash label, selector, owner, revision 1 and full replicas', () => {
  const d = dep('nginx:1');
  const { plan } = step(d, []);
  const rs = plan.create!;
  const hash = rs.metadata!.labels![LABEL_POD_TEMPLATE_HASH];
  assert.equal(rs.metadata?.name, `web-${hash}`);
  assert.equal(rs.spec?.replicas, 4);
  assert.deepEqual(rs.spec?.selector?.matchLabels, { app: 'web', [LABEL_POD_TEMPLATE_HASH]: hash });
  assert.equal(rs.spec?.template?.metadata?.labels?.[LABEL_POD_TEMPLATE_HASH], hash);
  assert.equal(rs.metadata?.annotations?.[ANNOTATION_REVISION], '1');
  assert.equal(rs.metadata?.ownerReferences?.[0].uid, 'd1');
  assert.deepEqual(plan.events.map((e) => e.message), [`Scaled up replica set web-${hash} to 4`]);
  assert.equal(plan.revision, '1');
  assert.equal(plan.status.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetCreated');
});

test('rolling update honours maxSurge/maxUnavailable at every step and completes', () => {
  const d = dep('nginx:1');
  let rss: ReplicaSet[] = [];
  for (let i = 0; i < 3; i++) rss = step(d, rss).rss;
  assert.equal(planDeployment(d, rss, now).complete, true);
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.reason, 'MinimumReplicasAvailable');
  const d2 = { ...dep('nginx:2'), status: d.status };
  const messages: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = step(d2, rss);
    rss = r.rss;
    messages.push(...r.plan.events.map((e) => e.message));
    const total = rss.reduce((n, x) => n + (x.spec?.replicas ?? 0), 0);
    const avail = rss.reduce((n, x) => n + (x.status?.availableReplicas ?? 0), 0);
    assert.ok(total <= 5, `surge exceeded: ${total}`);
    assert.ok(avail >= 3, `too few available: ${avail}`);
    if (r.plan.complete) break;
  }
  const newRs = rss.find((r) => r.spec?.template?.spec?.containers[0].image === 'nginx:2')!;
  assert.equal(newRs.spec?.replicas, 4);
  assert.equal(newRs.metadata?.annotations?.[ANNOTATION_REVISION], '2');
  assert.ok(rss.filter((r) => r !== newRs).every((r) => r.spec?.replicas === 0));
  assert.ok(messages.some((m) => /^Scaled down replica set web-\w+ to 0$/.test(m)), messages.join('\n'));
  assert.equal(d2.status?.updatedReplicas, 4);
  // A third template: history limit 1 prunes the oldest scaled-down ReplicaSet.
  const d3 = { ...dep('nginx:3'), status: d2.status };
  for (let i = 0; i < 20; i++) { const r = step(d3, rss); rss = r.rss; if (r.plan.complete) { rss = step(d3, rss).rss; break; } }
  assert.deepEqual(rss.map((r) => r.spec?.template?.spec?.containers[0].image).sort(), ['nginx:2', 'nginx:3']);
});

test('without available pods the old ReplicaSet is not scaled below minAvailable', () => {
  const d = dep('nginx:1');
  let rss: ReplicaSet[] = [];
  for (let i = 0; i < 3; i++) rss = step(d, rss).rss;
  const d2 = { ...dep('nginx:2'), status: d.status };
  for (let i = 0; i < 5; i++) rss = step(d2, rss, false).rss; // new pods never become available
  const old = rss.find((r) => r.spec?.template?.spec?.containers[0].image === 'nginx:1')!;
  assert.equal(old.spec?.replicas, 3);
  assert.equal(d2.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'ReplicaSetUpdated');
});

test('Recreate scales old to zero before the new ReplicaSet gets pods; scale up/down works', () => {
  const d = dep('nginx:1', 2, { type: 'Recreate' });
  let rss: ReplicaSet[] = [];
  for (let i = 0; i < 2; i++) rss = step(d, rss).rss;
  const d2 = { ...dep('nginx:2', 2, { type: 'Recreate' }), status: d.status };
  const r = step(d2, rss, false);
  assert.equal(r.plan.create?.spec?.replicas, 0);
  rss = r.rss.map((x) => ({ ...x, status: { replicas: x.spec?.replicas ?? 0, availableReplicas: 0 } }));
  rss = step(d2, rss).rss;
  rss = step(d2, rss).rss;
  assert.deepEqual(rss.map((x) => [x.spec?.template?.spec?.containers[0].image, x.spec?.replicas]).sort(), [['nginx:1', 0], ['nginx:2', 2]]);
  const d3 = { ...dep('nginx:2', 5, { type: 'Recreate' }), status: d2.status };
  const s = step(d3, rss);
  assert.deepEqual(s.plan.events.map((e) => e.message.replace(/web-\w+/, 'X')), ['Scaled up replica set X to 5']);
});

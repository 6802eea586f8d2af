import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { selectNode } from './select.js';

const node = (name: string, o: { ready?: boolean; labels?: Record<string, string>; taint?: boolean; unschedulable?: boolean } = {}): Node => ({
  metadata: { name, labels: o.labels },
  spec: { unschedulable: o.unschedulable, taints: o.taint ? [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] : undefined },
  status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});
const pod = (sel?: Record<string, string>, tolerate = false): Pod => ({
  metadata: { name: 'p' }, spec: { containers: [], nodeSelector: sel, tolerations: tolerate ? [{ key: 'dedicated', operator: 'Exists' }] : undefined },
});

const cases: { name: string; pod: Pod; nodes: Node[]; load?: [string, number][]; want: string }[] = [
  { name: 'least loaded wins', pod: pod(), nodes: [node('a'), node('b')], load: [['a', 2], ['b', 1]], want: 'b' },
  { name: 'ties by name', pod: pod(), nodes: [node('b'), node('a')], want: 'a' },
  { name: 'not ready skipped', pod: pod(), nodes: [node('a', { ready: false }), node('b')], load: [['b', 9]], want: 'b' },
  { name: 'nodeSelector', pod: pod({ disk: 'ssd' }), nodes: [node('a'), node('b', { labels: { disk: 'ssd' } })], want: 'b' },
  { name: 'taint needs toleration', pod: pod(undefined, true), nodes: [node('a', { taint: true })], want: 'a' },
  { name: 'nothing fits', pod: pod({ disk: 'ssd' }), nodes: [node('a'), node('b', { ready: false }), node('c', { taint: true, labels: { disk: 'ssd' } }), node('d', { unschedulable: true, labels: { disk: 'ssd' } })],
    want: "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: x}, 1 node(s) were not ready, 1 node(s) were unschedulable. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling." },
];
for (const c of cases) {
  test(`selectNode: ${c.name}`, () => {
    const r = selectNode(c.pod, c.nodes, new Map(c.load ?? []));
    assert.equal('node' in r ? r.node : r.message, c.want);
  });
}

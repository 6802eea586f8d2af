/**
 * The proxy conformance suite: every behaviour the proxy promises, checked with real traffic
 * between network namespaces through the real kernel. Each backend runs it in a few lines
 * (proxy-nftables.test.ts, proxy-iptables.test.ts). Traffic is only ever sent from inside the
 * fixture's namespaces.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { R } from '../../src/api/resources.js';
import { isNotFound } from '../../src/api/errors.js';
import { startProxy, type Proxy, type ProxyMode } from '../../src/proxy/proxy.js';
import { ProxyFixture, inNs, type FixturePod } from './proxy-fixture.js';
import { makeTestApi, type TestApi } from './proxy-api.js';

const NS = 'default';

function count(xs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

export function proxyConformance(mode: ProxyMode): void {
  describe(`proxy conformance (${mode})`, { concurrency: false }, () => {
    const fx = new ProxyFixture();
    let api: TestApi;
    let proxy: Proxy;
    let client: FixturePod;
    const pods: Record<string, FixturePod> = {};

    const start = (): Promise<Proxy> => startProxy({
      client: api.client, nodeName: 'node-0', netns: fx.nodeNs, mode,
      serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', retrySyncPeriodMs: 200,
    });

    async function putService(name: string, clusterIP: string, ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[], spec: Partial<NonNullable<Service['spec']>> = {}): Promise<void> {
      const obj: Service = {
        apiVersion: 'v1', kind: 'Service', metadata: { namespace: NS, name },
        spec: { clusterIP, clusterIPs: [clusterIP], type: 'ClusterIP', sessionAffinity: 'None',
          ports: ports.map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p })) as NonNullable<Service['spec']>['ports'], ...spec },
      };
      await api.client.create(R.services, NS, obj);
    }

    async function putSlice(service: string, ports: { name?: string; port: number; protocol?: string }[], eps: { pod: string; ready?: boolean; serving?: boolean; terminating?: boolean }[]): Promise<void> {
      const obj: EndpointSlice = {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
        metadata: { namespace: NS, name: `${service}-x1`, labels: { 'kubernetes.io/service-name': service },
          annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString() } },
        ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: (p.protocol ?? 'TCP') as 'TCP' })),
        endpoints: eps.map((e) => ({
          addresses: [pods[e.pod]!.ip],
          conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
        })),
      };
      try {
        const cur = await api.client.get<EndpointSlice>(R.endpointslices, NS, obj.metadata!.name!);
        await api.client.update(R.endpointslices, NS, { ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata?.resourceVersion } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await api.client.create(R.endpointslices, NS, obj);
      }
    }

    /** Waits until the proxy's rules for a Service satisfy `ok` and the proxy is idle. */
    async function settle(service: string, ok: (rules: string) => boolean): Promise<void> {
      const deadline = Date.now() + 5000;
      for (;;) {
        await proxy.whenIdle();
        const rules = await proxy.rulesFor(NS, service);
        if (ok(rules)) return;
        if (Date.now() > deadline) assert.fail(`rules for ${service} never settled:\n${rules}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    /** Whether the rules DNAT to `ip` (nft `ip . port` / `ip:port`, iptables `ip:port`), optionally on `port`. */
    const targets = (rules: string, ip: string, port = '\\d+') =>
      new RegExp(`${ip.replaceAll('.', '\\.')}(:${port}\\b| \\. ${port}[ ,}])`).test(rules);
    const hasIps = (...names: string[]) => (rules: string) => names.every((n) => targets(rules, pods[n]!.ip));
    const lacksIps = (...names: string[]) => (rules: string) => rules !== '' && names.every((n) => !targets(rules, pods[n]!.ip));

    before(async () => {
      try {
        fx.setup({ serviceRoute: mode === 'iptables' });
        for (const n of ['a', 'b', 'c', 'd', 'e']) pods[n] = await fx.addPod(n, ['tcp:8080', 'tcp:9090', 'udp:5353']);
        client = fx.addClient();
        api = await makeTestApi();
        if (!api.real) console.log('# proxy conformance: API core not present yet, using FakeClient');
        proxy = await start();
      } catch (err) {
        fx.cleanup();
        throw err;
      }
    });
    after(async () => {
      try { await proxy?.stop({ flush: true }); } finally {
        await api?.close();
        fx.cleanup();
      }
    });

    test('spreads 300 requests over 3 endpoints within statistical bounds', async () => {
      await putService('web', '10.96.0.50', [{ port: 80, targetPort: 8080 }]);
      await putSlice('web', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c' }]);
      await settle('web', hasIps('a', 'b', 'c'));
      const r = await fx.client(client.ns, ['http', '10.96.0.50', 80, 300]);
      assert.deepEqual(r.errors, []);
      const c = count(r.answers);
      assert.deepEqual([...c.keys()].sort(), ['a:8080', 'b:8080', 'c:8080']);
      // Binomial(300, 1/3): mean 100, sd 8.2; [60, 140] is ~5 sd either side.
      for (const [k, v] of c) assert.ok(v >= 60 && v <= 140, `${k} got ${v} of 300`);
    });

    test('ClientIP affinity holds over 100 requests and across unrelated syncs', async () => {
      await putService('sticky', '10.96.0.51', [{ port: 80, targetPort: 8080 }],
        { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
      await putSlice('sticky', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c' }]);
      await settle('sticky', hasIps('a', 'b', 'c'));
      const r = await fx.client(client.ns, ['http', '10.96.0.51', 80, 100]);
      assert.deepEqual(r.errors, []);
      assert.equal(count(r.answers).size, 1, `answers: ${[...count(r.answers)]}`);
      const first = r.answers[0];
      await putService('unrelated', '10.96.0.59', [{ port: 80 }]);
      await settle('unrelated', (x) => x !== '');
      const r2 = await fx.client(client.ns, ['http', '10.96.0.51', 80, 20]);
      assert.deepEqual(count(r2.answers), new Map([[first!, 20]]));
    });

    test('a Service without endpoints, and a ClusterIP port without a Service, refuse at once', async () => {
      await putService('empty', '10.96.0.52', [{ port: 80 }]);
      await settle('empty', (x) => x.includes('10.96.0.52'));
      const r = await fx.client(client.ns, ['connect', '10.96.0.52', 80, 2000]);
      assert.deepEqual(r.errors, ['ECONNREFUSED']);
      assert.ok(r.ms[0]! < 100, `refused after ${r.ms[0]} ms`);
      const r2 = await fx.client(client.ns, ['connect', '10.96.0.50', 81, 2000]);
      assert.deepEqual(r2.errors, ['ECONNREFUSED']);
      assert.ok(r2.ms[0]! < 100, `refused after ${r2.ms[0]} ms`);
    });

    test('endpoints 3 -> 5 -> 2: traffic follows', async () => {
      await putService('scale', '10.96.0.53', [{ port: 80, targetPort: 8080 }]);
      const expect = async (names: string[]) => {
        await putSlice('scale', [{ port: 8080 }], names.map((pod) => ({ pod })));
        await settle('scale', (x) => hasIps(...names)(x) && lacksIps(...['a', 'b', 'c', 'd', 'e'].filter((n) => !names.includes(n)))(x));
        const r = await fx.client(client.ns, ['http', '10.96.0.53', 80, 150]);
        assert.deepEqual(r.errors, []);
        assert.deepEqual([...count(r.answers).keys()].sort(), names.map((n) => `${n}:8080`).sort());
      };
      await expect(['a', 'b', 'c']);
      await expect(['a', 'b', 'c', 'd', 'e']);
      await expect(['d', 'e']);
    });

    test('an unready endpoint gets no traffic; serving+terminating ones are used only as a fallback', async () => {
      await putService('ready', '10.96.0.54', [{ port: 80, targetPort: 8080 }]);
      await putSlice('ready', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c', ready: false, serving: false }, { pod: 'd', ready: false, serving: true, terminating: true }]);
      await settle('ready', (x) => hasIps('a', 'b')(x) && lacksIps('c', 'd')(x));
      const r = await fx.client(client.ns, ['http', '10.96.0.54', 80, 100]);
      assert.deepEqual([...count(r.answers).keys()].sort(), ['a:8080', 'b:8080']);
      await putSlice('ready', [{ port: 8080 }], [{ pod: 'c', ready: false, serving: false }, { pod: 'd', ready: false, serving: true, terminating: true }]);
      await settle('ready', (x) => hasIps('d')(x) && lacksIps('a', 'b', 'c')(x));
      const r2 = await fx.client(client.ns, ['http', '10.96.0.54', 80, 20]);
      assert.deepEqual(count(r2.answers), new Map([['d:8080', 20]]));
    });

    test('named, multi-port Service: each port goes to its own target port', async () => {
      await putService('multi', '10.96.0.55', [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 90, targetPort: 'prom' }]);
      await putSlice('multi', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }], [{ pod: 'a' }, { pod: 'b' }]);
      await settle('multi', (x) => targets(x, pods.a!.ip, '9090') && targets(x, pods.b!.ip, '8080'));
      const r80 = await fx.client(client.ns, ['http', '10.96.0.55', 80, 30]);
      const r90 = await fx.client(client.ns, ['http', '10.96.0.55', 90, 30]);
      assert.deepEqual([...count(r80.answers).keys()].sort(), ['a:8080', 'b:8080']);
      assert.deepEqual([...count(r90.answers).keys()].sort(), ['a:9090', 'b:9090']);
    });

    test('UDP: removing the endpoint a flow is pinned to does not blackhole it', async () => {
      await putService('dns', '10.96.0.56', [{ port: 53, targetPort: 5353, protocol: 'UDP' }]);
      await putSlice('dns', [{ port: 5353, protocol: 'UDP' }], [{ pod: 'a' }, { pod: 'b' }]);
      await settle('dns', hasIps('a', 'b'));
      const before = await fx.client(client.ns, ['udp', '10.96.0.56', 53, 5, 500, 40053]);
      assert.deepEqual(before.errors, []);
      assert.equal(count(before.answers).size, 1, 'one UDP flow sticks to one endpoint via conntrack');
      const pinned = before.answers[0]!.split(':')[0]!;
      const other = pinned === 'a' ? 'b' : 'a';
      await putSlice('dns', [{ port: 5353, protocol: 'UDP' }], [{ pod: other }]);
      await settle('dns', (x) => hasIps(other)(x) && lacksIps(pinned)(x));
      const afterR = await fx.client(client.ns, ['udp', '10.96.0.56', 53, 5, 500, 40053]);
      assert.deepEqual(afterR.errors, [], 'no datagram lost after the change');
      assert.deepEqual(count(afterR.answers), new Map([[`${other}:5353`, 5]]));
    });

    test('hairpin: a Pod reaches itself through its own Service', async () => {
      await putService('self', '10.96.0.57', [{ port: 80, targetPort: 8080 }]);
      await putSlice('self', [{ port: 8080 }], [{ pod: 'c' }]);
      await settle('self', hasIps('c'));
      const r = await fx.client(pods.c!.ns, ['http', '10.96.0.57', 80, 10]);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(count(r.answers), new Map([['c:8080', 10]]));
    });

    test('a namespace outside the cluster network cannot connect to a ClusterIP', async () => {
      const outside = fx.addOutside();
      const r = await fx.client(outside, ['connect', '10.96.0.50', 80, 1000]);
      assert.equal(r.answers.length, 0);
      assert.equal(r.errors.length, 1);
    });

    test('metrics use kube-proxy names and saw syncs and network programming', async () => {
      const m = await proxy.metricsText();
      const num = (re: RegExp) => Number(re.exec(m)?.[1] ?? 'NaN');
      assert.ok(num(/^kubeproxy_sync_proxy_rules_duration_seconds_count (\d+)/m) > 0);
      assert.ok(num(/^kubeproxy_sync_full_proxy_rules_duration_seconds_count (\d+)/m) >= 1);
      assert.ok(num(/^kubeproxy_network_programming_duration_seconds_count (\d+)/m) > 0);
      assert.ok(num(/^kubeproxy_sync_proxy_rules_last_timestamp_seconds (\S+)/m) > 1e9);
    });

    test('restart without flush keeps rules, flows and affinity; flush removes everything', async () => {
      const aff = await fx.client(client.ns, ['http', '10.96.0.51', 80, 1]);
      const conntrackBefore = inNs(fx.nodeNs, ['conntrack', '-L', '-p', 'udp', '--orig-dst', '10.96.0.56']).trim();
      await proxy.stop();
      // Rules stay in place while no proxy runs.
      const between = await fx.client(client.ns, ['http', '10.96.0.50', 80, 10]);
      assert.deepEqual(between.errors, []);
      proxy = await start();
      await settle('web', hasIps('a', 'b', 'c'));
      const afterAff = await fx.client(client.ns, ['http', '10.96.0.51', 80, 10]);
      assert.deepEqual(count(afterAff.answers), new Map([[aff.answers[0]!, 10]]), 'affinity survives a restart');
      const conntrackAfter = inNs(fx.nodeNs, ['conntrack', '-L', '-p', 'udp', '--orig-dst', '10.96.0.56']).trim();
      assert.equal(conntrackAfter.split('\n').length, conntrackBefore.split('\n').length, 'a restart flushes no flow');
      await proxy.stop({ flush: true });
      const left = mode === 'nftables' ? inNs(fx.nodeNs, ['nft', 'list', 'tables']) : inNs(fx.nodeNs, ['iptables-save']);
      assert.doesNotMatch(left, /clusterip|KUBE-/);
      // A start into an empty kernel is one full sync; UDP Services with endpoints work after it.
      proxy = await start();
      await settle('dns', (x) => x !== '' && !lacksIps('a', 'b')(x));
      const udp = await fx.client(client.ns, ['udp', '10.96.0.56', 53, 3, 500, 40054]);
      assert.deepEqual(udp.errors, [], 'UDP through the ClusterIP after a full sync into an empty kernel');
      assert.equal(udp.answers.length, 3);
    });
  });
}

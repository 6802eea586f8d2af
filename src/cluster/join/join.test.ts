/**
 * The join API end to end over real HTTPS (API core in memory, the real API server with the join
 * routes, the joining side's discovery and request): a join, a rejoin, and every bad request —
 * wrong token, wrong CA hash, a duplicate node name, an invalid name, an expired token — refused
 * with a clear message and nothing half-registered.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Node } from 'kubernetes-types/core/v1.js';
import { createApiCore } from '../../apiserver/core.js';
import { startApiServer } from '../../apiserver/http/server.js';
import { ensurePki } from '../../apiserver/pki/pki.js';
import { newCa, newLeaf, spkiHash } from '../../certs/x509.js';
import { R } from '../../api/resources.js';
import { MemoryStorage } from '../../storage/memory.js';
import { HttpClient } from '../../client/http.js';
import { fetchServerBootstrap, joinCluster, JoinError } from './client.js';
import { joinRoutes, type ClusterInfo } from './service.js';
import { formatK10, generateBootstrapToken, parseJoinCredentials } from './token.js';
import { BootstrapTokens } from './tokenstore.js';

const CLUSTER: ClusterInfo = {
  name: 't', serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local',
  proxyMode: 'nftables', nodeLeaseDurationSeconds: 40,
};

async function server(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'cip-join-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const storage = new MemoryStorage();
  const core = await createApiCore({ storage });
  t.after(() => core.close());
  const pki = await ensurePki(dir);
  const tokens = new BootstrapTokens(storage);
  const seen: string[] = [];
  const routes = joinRoutes({ pki, client: core.client, tokens, cluster: CLUSTER, servers: async () => ['https://192.0.2.1:6443'] });
  const srv = await startApiServer({
    client: core.client, pki, listen: { port: 0 }, log: () => undefined,
    extraRoutes: (req, res, path, user) => { seen.push(`${req.method} ${path} ${req.headers.authorization ? 'with-token' : ''}`.trim()); return routes(req, res, path, user); },
  });
  t.after(() => srv.close());
  const token = generateBootstrapToken();
  await tokens.add(token, { usages: ['join-node'] });
  const nodes = async () => (await core.client.list<Node>(R.nodes, undefined)).items.map((n) => n.metadata!.name!).sort();
  return { pki, core, tokens, token, url: srv.url, seen, nodes, k10: formatK10(pki.caCert, token) };
}

const refused = (code: JoinError['code'], re: RegExp, http?: number) => (e: unknown): boolean => {
  assert.ok(e instanceof JoinError, String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, re);
  if (http) assert.equal(e.status?.code, http);
  return true;
};

test('a node joins with a K10 token: a client certificate system:node:<name> for its own key, the Node created with its password hash, the cluster settings', async (t) => {
  const s = await server(t);
  const { response, key } = await joinCluster(s.url, parseJoinCredentials(s.k10), 'm2', 'p'.repeat(32));
  const cert = new X509Certificate(response.certificate);
  assert.match(cert.subject, /CN=system:node:m2/);
  assert.match(cert.subject, /O=system:nodes/);
  assert.ok(cert.verify(new X509Certificate(s.pki.caCert).publicKey));
  assert.deepEqual(response.cluster, CLUSTER);
  assert.deepEqual(response.servers, ['https://192.0.2.1:6443']);
  assert.deepEqual(await s.nodes(), ['m2']);
  // The certificate authenticates as the node.
  const c = new HttpClient({ server: s.url, ca: s.pki.caCert, cert: response.certificate, key });
  t.after(() => c.close());
  const n = await c.get<Node>(R.nodes, undefined, 'm2');
  assert.match(n.metadata!.annotations!['clusterip.dev/node-password']!, /^sha256:[0-9a-f]{64}$/);
  // The same machine (same password) joins again: accepted, nothing duplicated.
  await joinCluster(s.url, parseJoinCredentials(s.k10), 'm2', 'p'.repeat(32));
  assert.deepEqual(await s.nodes(), ['m2']);
  // kubeadm's form: bare bootstrap token + SPKI hash.
  await joinCluster(s.url, parseJoinCredentials(`${s.token.id}.${s.token.secret}`, spkiHash(s.pki.caCert)), 'm3', 'q'.repeat(32));
  assert.deepEqual(await s.nodes(), ['m2', 'm3']);
});

test('bad join requests are refused clearly and register nothing: wrong token, wrong CA hash, duplicate name, invalid name, expired token', async (t) => {
  const s = await server(t);
  const wrongSecret = `K10${s.k10.slice(3, 67)}::${s.token.id}.${'0'.repeat(16)}`;
  await assert.rejects(joinCluster(s.url, parseJoinCredentials(wrongSecret), 'a', 'p'.repeat(32)),
    refused('JOIN_REFUSED', /^Unauthorized: the bootstrap token is not valid: no token with this id and secret exists in the cluster$/, 401));
  const unknownId = `K10${s.k10.slice(3, 67)}::zzzzzz.${s.token.secret}`;
  await assert.rejects(joinCluster(s.url, parseJoinCredentials(unknownId), 'a', 'p'.repeat(32)), refused('JOIN_REFUSED', /not valid/, 401));

  // A CA hash of another cluster: refused after discovery, before the token is sent.
  const other = await newCa('other');
  const before = s.seen.length;
  await assert.rejects(joinCluster(s.url, parseJoinCredentials(formatK10(other.cert, s.token)), 'a', 'p'.repeat(32)),
    refused('CA_MISMATCH', /does not match the CA hash in the token \(K10\.\.\.\): expected [0-9a-f]{64}, the server's CA hashes to [0-9a-f]{64}.*nothing secret was sent/));
  assert.deepEqual(s.seen.slice(before), ['GET /cacerts'], 'only discovery reached the server; the token never did');
  await assert.rejects(joinCluster(s.url, parseJoinCredentials(`${s.token.id}.${s.token.secret}`, spkiHash(other.cert)), 'a', 'p'.repeat(32)),
    refused('CA_MISMATCH', /--discovery-token-ca-cert-hash/));

  // A duplicate name: a Node of the API server's own machine (no password), and one another machine joined.
  await s.core.client.create<Node>(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'server-node' } });
  await assert.rejects(joinCluster(s.url, parseJoinCredentials(s.k10), 'server-node', 'p'.repeat(32)),
    refused('JOIN_REFUSED', /nodes "server-node" already exists: it was registered by another machine .* kubectl delete node server-node/, 409));
  await joinCluster(s.url, parseJoinCredentials(s.k10), 'm2', 'first-machine-password');
  const m2 = await s.core.client.get<Node>(R.nodes, undefined, 'm2');
  await assert.rejects(joinCluster(s.url, parseJoinCredentials(s.k10), 'm2', 'second-machine-password'),
    refused('JOIN_REFUSED', /nodes "m2" already exists/, 409));
  assert.equal((await s.core.client.get<Node>(R.nodes, undefined, 'm2')).metadata?.resourceVersion, m2.metadata?.resourceVersion, 'the first machine\'s Node is untouched');

  await assert.rejects(joinCluster(s.url, parseJoinCredentials(s.k10), 'Bad_Name', 'p'.repeat(32)),
    refused('JOIN_REFUSED', /^Node "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/, 422));

  const expired = generateBootstrapToken();
  await s.tokens.add(expired, { usages: ['join-node'], ttlMs: 1, now: new Date(Date.now() - 1000) });
  await assert.rejects(joinCluster(s.url, parseJoinCredentials(formatK10(s.pki.caCert, expired)), 'late', 'p'.repeat(32)),
    refused('JOIN_REFUSED', /the bootstrap token [a-z0-9]{6} expired at/, 401));
  // A node token does not make an API server.
  await assert.rejects(fetchServerBootstrap(s.url, parseJoinCredentials(s.k10)), refused('JOIN_REFUSED', /may not be used to add an API server/, 401));

  assert.deepEqual(await s.nodes(), ['m2', 'server-node'], 'no refused join left a Node behind');
});

test('an unreachable server and a server whose certificate does not name the address say so', async (t) => {
  const s = await server(t);
  await assert.rejects(joinCluster('https://127.0.0.1:1', parseJoinCredentials(s.k10), 'a', 'p'.repeat(32)), refused('SERVER_UNREACHABLE', /cannot reach the API server at https:\/\/127\.0\.0\.1:1/));
  // A server of this cluster (same CA) whose serving certificate does not name 127.0.0.1.
  const leaf = await newLeaf({ cert: s.pki.caCert, key: s.pki.caKey }, { subject: { CN: 'elsewhere' }, usages: ['serverAuth'], sans: ['DNS:elsewhere.example'] });
  const elsewhere = await startApiServer({
    client: s.core.client, pki: { ...s.pki, serverCert: leaf.cert, serverKey: leaf.key }, listen: { port: 0 }, log: () => undefined,
    extraRoutes: joinRoutes({ pki: s.pki, client: s.core.client, tokens: s.tokens, cluster: CLUSTER, servers: async () => [] }),
  });
  t.after(() => elsewhere.close());
  await assert.rejects(joinCluster(elsewhere.url, parseJoinCredentials(s.k10), 'a', 'p'.repeat(32)),
    refused('TLS_FAILED', /does not verify against the cluster CA for this address: .*--advertise-address/));
  assert.deepEqual(await s.nodes(), []);
});

#!/usr/bin/env node
// The probe helper of clusterip explain/diagnose. It runs INSIDE a namespace the cluster made —
// started with `ip netns exec <ns>` (a node, a Pod, the outside host) or `nsenter -t <pid> -n -m`
// (a probe Pod, so the resolver reads that Pod's own /etc/resolv.conf) — never in the host's own
// namespace. It reads one JSON array of requests on stdin, runs them all at once, and writes one
// JSON array of answers (same order) on stdout. Plain JavaScript: it runs without tsx.
//
// Requests:
//   {op:'tcp', host, port, timeoutMs}                → {ok, ms, error?, localPort?}
//   {op:'tcp-repeat', host, port, count, timeoutMs}  → {ok: <successes>, failed, localPorts, errors}
//   {op:'dns', server, name, type, timeoutMs}        → {rcode, answers, error?}   (asks `server` directly)
//   {op:'lookup', name, timeoutMs}                   → {addresses?, error?, ms}    (getaddrinfo: resolv.conf search path)
//   {op:'read', path}                                → {text?, error?}
//   {op:'http', host, port, path, timeoutMs}         → {status?, error?, ms}       (one GET, as a kubelet httpGet probe)
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const RCODES = { ENOTFOUND: 'NXDOMAIN', ENODATA: 'NODATA', ESERVFAIL: 'SERVFAIL', EREFUSED: 'REFUSED', ETIMEOUT: 'TIMEOUT', ECONNREFUSED: 'REFUSED' };

function tcp({ host, port, timeoutMs = 500 }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host, port });
    let settled = false;
    const done = (r) => { if (settled) return; settled = true; clearTimeout(timer); s.destroy(); resolve({ ms: Math.round((performance.now() - t0) * 100) / 100, ...r }); };
    // The timer runs before the loop's I/O phase: on a busy machine a connection that completed in
    // time may not have been seen yet. setImmediate runs after that phase, so it is seen first.
    const timer = setTimeout(() => setImmediate(() => done({ ok: false, error: 'ETIMEDOUT' })), timeoutMs);
    s.on('connect', () => done({ ok: true, localPort: s.localPort }));
    s.on('error', (e) => done({ ok: false, error: e.code ?? e.message }));
  });
}

async function tcpRepeat({ host, port, count = 10, timeoutMs = 500 }) {
  const r = { ok: 0, failed: 0, localPorts: [], errors: {} };
  for (let i = 0; i < count; i++) {
    const a = await tcp({ host, port, timeoutMs });
    if (a.ok) { r.ok++; r.localPorts.push(a.localPort); } else { r.failed++; r.errors[a.error] = (r.errors[a.error] ?? 0) + 1; }
  }
  return r;
}

async function query({ server, name, type = 'A', timeoutMs = 500 }) {
  const res = new dns.promises.Resolver({ timeout: timeoutMs, tries: 1 });
  res.setServers([server]);
  try {
    if (type === 'SRV') return { rcode: 'NOERROR', answers: (await res.resolveSrv(name)).map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name}`) };
    if (type === 'CNAME') return { rcode: 'NOERROR', answers: await res.resolveCname(name) };
    return { rcode: 'NOERROR', answers: await res.resolve4(name) };
  } catch (e) {
    return { rcode: RCODES[e.code] ?? 'ERROR', answers: [], ...(RCODES[e.code] ? {} : { error: e.code ?? e.message }) };
  }
}

async function lookup({ name, timeoutMs = 1500 }) {
  const t0 = performance.now();
  const ms = () => Math.round((performance.now() - t0) * 100) / 100;
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve({ error: 'ETIMEOUT', ms: ms() }), timeoutMs); });
  const answer = dns.promises.lookup(name, { all: true, family: 4 })
    .then((a) => ({ addresses: a.map((x) => x.address), ms: ms() }), (e) => ({ error: e.code ?? e.message, ms: ms() }));
  const r = await Promise.race([answer, timeout]);
  clearTimeout(timer);
  return r;
}

function get({ host, port, path = '/', timeoutMs = 1000 }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const ms = () => Math.round((performance.now() - t0) * 100) / 100;
    const req = http.get({ host, port, path, headers: { 'User-Agent': 'kube-probe/1.32' }, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode, ms: ms() });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => resolve({ error: e.code ?? e.message, ms: ms() }));
  });
}

function read({ path }) {
  try { return { text: fs.readFileSync(path, 'utf8') }; } catch (e) { return { error: e.code ?? e.message }; }
}

const OPS = { tcp, 'tcp-repeat': tcpRepeat, dns: query, lookup, read, http: get };

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  let reqs;
  try { reqs = JSON.parse(input); } catch (e) { process.stdout.write(JSON.stringify({ error: `bad request: ${e.message}` })); process.exit(2); }
  const answers = await Promise.all(reqs.map(async (q) => {
    const op = OPS[q.op];
    if (!op) return { error: `unknown op ${q.op}` };
    try { return await op(q); } catch (e) { return { error: e.message }; }
  }));
  process.stdout.write(JSON.stringify(answers));
  // getaddrinfo may still be waiting in the thread pool after a timeout: do not wait for it.
  process.exit(0);
});

#!/usr/bin/env node
// Probe helper: runs inside the NODE network namespace (started with `ip netns exec <node-ns>`), so
// kubelet-style probe traffic originates there, never from the host namespace. Reads one JSON
// request per stdin line: {id, kind: 'http'|'tcp', host, port, path?, scheme?, headers?, timeoutMs}
// and answers one JSON line: {id, ok, message}. HTTP: 200 <= status < 400 is success (kubelet rule).
import http from 'node:http';
import net from 'node:net';
import readline from 'node:readline';

const rl = readline.createInterface({ input: process.stdin });
const reply = (o) => process.stdout.write(JSON.stringify(o) + '\n');
rl.on('line', (line) => {
  let q;
  try { q = JSON.parse(line); } catch { return; }
  const timeout = q.timeoutMs ?? 1000;
  if (q.kind === 'tcp') {
    const s = net.connect({ host: q.host, port: q.port });
    const t = setTimeout(() => { s.destroy(); reply({ id: q.id, ok: false, message: `dial tcp ${q.host}:${q.port}: i/o timeout` }); }, timeout);
    s.on('connect', () => { clearTimeout(t); s.destroy(); reply({ id: q.id, ok: true, message: '' }); });
    s.on('error', (e) => { clearTimeout(t); reply({ id: q.id, ok: false, message: `dial tcp ${q.host}:${q.port}: ${e.code ?? e.message}` }); });
    return;
  }
  const req = http.get({ host: q.host, port: q.port, path: q.path || '/', headers: { 'User-Agent': 'kube-probe/1.32', ...(q.headers ?? {}) }, timeout }, (res) => {
    res.resume();
    const ok = res.statusCode >= 200 && res.statusCode < 400;
    reply({ id: q.id, ok, message: ok ? '' : `HTTP probe failed with statuscode: ${res.statusCode}` });
  });
  req.on('timeout', () => req.destroy(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)')));
  req.on('error', (e) => reply({ id: q.id, ok: false, message: `Get "http://${q.host}:${q.port}${q.path || '/'}": ${e.code ? `dial tcp ${q.host}:${q.port}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.code}` : e.message}` }));
});

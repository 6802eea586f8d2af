// The service proxy's process inside one node's network namespace (started with
// `ip netns exec <node-ns> node helper.mjs`): it owns the proxy's listening sockets, which must
// live in the node's namespace, never in the host's.
//
// - Health checks (every mode): an HTTP server on each healthCheckNodePort, answering as
//   kube-proxy's service health server does: 200 with the number of this node's endpoints, or 503
//   when there are none (so a load balancer sends traffic only to nodes with local endpoints).
// - The userspace proxy mode: a listener per Service port (TCP and UDP) that the kernel redirects
//   the Service's addresses to; every connection is proxied here, to an endpoint picked round-robin
//   (ClientIP affinity: the client's last endpoint while its entry has not expired), as kube-proxy's
//   historical userspace mode did. A refused endpoint is skipped and the next one tried.
//
// Protocol: one JSON object per line on stdin, one JSON answer per line on stdout, in order:
//   {"id":1,"health":[{"port":32000,"namespace":"ns","name":"svc","localEndpoints":1}],"healthy":true}
//   {"id":2,"listeners":[{"key":"ns/svc:http/TCP","protocol":"TCP","port":20001,
//                         "endpoints":[["10.244.0.5",8080]],"affinitySeconds":10800}]}
// Each answer is {"id":N,"errors":["..."]}; a field left out keeps its last value. The process exits
// when stdin closes.
import net from 'node:net';
import dgram from 'node:dgram';
import http from 'node:http';
import readline from 'node:readline';
import os from 'node:os';
import { relayReads, relayingServer } from './relay.mjs';

/** This namespace's IPv4 addresses (the node's: lo, its bridge, its underlay interface). */
function localAddresses() {
  return Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4').map((a) => a.address);
}

/** UDP "connections" (one upstream socket per client address) end after this much silence. */
const UDP_IDLE_MS = Number(process.env.CLUSTERIP_UDP_IDLE_MS ?? 30_000);
/**
 * How long each try of a new TCP connection waits for its endpoint, one entry per try: kube-proxy's
 * userspace mode's EndpointDialTimeouts. Bounded tries also bound how long an accepted connection
 * (paused at its handle until an endpoint answers) can wait on endpoints that drop SYNs.
 */
const DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000];

// ---- health checks ----

/** port → { server, info } */
const health = new Map();
let proxyHealthy = true;

function healthAnswer(info) {
  const count = info.localEndpoints;
  const body = JSON.stringify({
    service: { namespace: info.namespace, name: info.name },
    localEndpoints: count,
    serviceProxyHealthy: proxyHealthy,
  }, null, 2);
  return { code: count !== 0 && proxyHealthy ? 200 : 503, count, body };
}

async function setHealth(entries) {
  const errors = [];
  const want = new Map(entries.map((e) => [e.port, e]));
  for (const [port, h] of health) {
    if (!want.has(port)) { h.server.close(); health.delete(port); }
  }
  for (const [port, info] of want) {
    const have = health.get(port);
    if (have) { have.info = info; continue; }
    const h = { info, server: undefined };
    h.server = http.createServer((req, res) => {
      const a = healthAnswer(h.info);
      res.writeHead(a.code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'X-Load-Balancing-Endpoint-Weight': String(a.count) });
      res.end(a.body);
      req.resume();
    });
    try {
      await listen(h.server, port);
      health.set(port, h);
    } catch (e) {
      errors.push(`health check port ${port} for ${info.namespace}/${info.name}: ${e.message}`);
    }
  }
  return errors;
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0', backlog: 4096 }, () => { server.off('error', reject); resolve(); });
  });
}

// ---- userspace proxying ----

/** Connects to endpoint `ep` for `client`, relaying what the endpoint sends straight to the client. */
function connectRelayed(ep, client) {
  const link = { from: undefined, to: client };
  const up = net.connect({ host: ep.ip, port: ep.port, noDelay: true, onread: relayReads(link) });
  link.from = up;
  up.once('end', () => client.end());
  return up;
}

/** Client → endpoint: each chunk written on; reading stops while the endpoint socket is backed up. */
function relayClient(client, up) {
  if (client.relay) {
    client.relay.to = up;
  } else {
    client.on('data', (chunk) => { if (!up.write(chunk)) client.pause(); });
    up.on('drain', () => client.resume());
  }
  client.once('end', () => up.end());
  client.resume();
}

/**
 * One Service port's listener. `endpoints` and the affinity table change in place on a sync, so
 * open connections are never disturbed.
 */
class Portal {
  constructor(spec) {
    this.key = spec.key;
    this.protocol = spec.protocol;
    this.port = spec.port;
    this.next = 0;
    /** client IP → { ep: "ip:port", until: ms } */
    this.affinity = new Map();
    this.update(spec);
  }

  update(spec) {
    this.endpoints = spec.endpoints.map(([ip, port]) => ({ ip, port, id: `${ip}:${port}` }));
    this.affinitySeconds = spec.affinitySeconds;
    const live = new Set(this.endpoints.map((e) => e.id));
    for (const [client, a] of this.affinity) if (!live.has(a.ep)) this.affinity.delete(client);
  }

  /** The endpoint for a new connection from `clientIP` (undefined: none). */
  pick(clientIP, skip) {
    const eps = this.endpoints;
    if (eps.length === 0) return undefined;
    const now = Date.now();
    if (this.affinitySeconds && !skip) {
      const a = this.affinity.get(clientIP);
      if (a && a.until > now) {
        const ep = eps.find((e) => e.id === a.ep);
        if (ep) { a.until = now + this.affinitySeconds * 1000; return ep; }
      }
    }
    for (let k = 0; k < eps.length; k++) {
      const ep = eps[this.next++ % eps.length];
      if (skip && skip.has(ep.id)) continue;
      if (this.affinitySeconds) this.affinity.set(clientIP, { ep: ep.id, until: now + this.affinitySeconds * 1000 });
      return ep;
    }
    return undefined;
  }

  async open() {
    if (this.protocol === 'UDP') return this.openUdp();
    this.server = relayingServer((c) => this.proxyTcp(c));
    await listen(this.server, this.port);
  }

  proxyTcp(client) {
    client.on('error', () => client.destroy());
    const tried = new Set();
    let tries = 0;
    const attempt = () => {
      if (client.destroyed) return;
      if (tries >= DIAL_TIMEOUTS_MS.length) { client.resetAndDestroy(); return; }
      // An endpoint not tried yet first; once all were, any (kube-proxy retried the Service as a whole).
      const untried = tried.size ? this.pick(client.remoteAddress, tried) : undefined;
      const ep = untried ?? this.pick(client.remoteAddress);
      if (!ep) { client.resetAndDestroy(); return; }
      tried.add(ep.id);
      const up = connectRelayed(ep, client);
      let connected = false;
      const dial = setTimeout(() => up.destroy(Object.assign(new Error(`connect to ${ep.id} timed out`), { code: 'ETIMEDOUT' })), DIAL_TIMEOUTS_MS[tries++]);
      up.once('close', () => clearTimeout(dial));
      up.once('connect', () => {
        clearTimeout(dial);
        connected = true;
        relayClient(client, up);
      });
      up.on('error', () => {
        if (!connected && !client.destroyed) { up.destroy(); attempt(); return; }
        client.destroy();
      });
      up.on('close', () => { if (connected) client.destroy(); });
      client.once('close', () => up.destroy());
    };
    // Until the upstream is connected the client's bytes wait in its socket buffer (the server
    // hands over every connection paused).
    attempt();
  }

  /**
   * UDP: one socket per local address. A reply must leave from the address the client's datagram
   * was redirected to (127.0.0.1, or the primary address of the interface it came in on), or
   * conntrack cannot match it to the redirected flow and the client sees it come from the wrong
   * place; Node's dgram cannot learn a datagram's destination address (no IP_PKTINFO), so each
   * socket is bound to one address and answers from it.
   */
  async openUdp() {
    /** "ip:port" of a client → { sock, ep, timer } */
    const flows = new Map();
    this.flows = flows;
    this.udp = new Map();
    const touch = (f) => {
      clearTimeout(f.timer);
      f.timer = setTimeout(() => end(f), UDP_IDLE_MS);
      f.timer.unref();
    };
    const end = (f) => { clearTimeout(f.timer); if (flows.get(f.id) === f) flows.delete(f.id); try { f.sock.close(); } catch { /* closed */ } };
    this.onDatagram = (server, msg, rinfo) => {
      const id = `${rinfo.address}:${rinfo.port}`;
      let flow = flows.get(id);
      if (!flow) {
        const ep = this.pick(rinfo.address);
        if (!ep) return;
        const sock = dgram.createSocket('udp4');
        const f = { id, sock, ep: ep.id, timer: undefined, connected: false };
        flow = f;
        flows.set(id, f);
        sock.on('message', (reply) => { server.send(reply, rinfo.port, rinfo.address); touch(f); });
        sock.on('error', () => end(f));
        sock.connect(ep.port, ep.ip, () => { f.connected = true; for (const m of f.queue ?? []) sock.send(m, () => {}); f.queue = undefined; });
      }
      touch(flow);
      if (flow.connected) flow.sock.send(msg, () => {});
      else (flow.queue ??= []).push(msg);
    };
    await this.bindUdp();
  }

  /** Binds a socket on every local IPv4 address not yet bound (called again on each sync: addresses may come later). */
  async bindUdp() {
    for (const addr of localAddresses()) {
      if (this.udp.has(addr)) continue;
      const server = dgram.createSocket('udp4');
      server.on('message', (msg, rinfo) => this.onDatagram(server, msg, rinfo));
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.bind(this.port, addr, () => { server.off('error', reject); resolve(); });
      });
      this.udp.set(addr, server);
    }
  }

  /** Drops UDP flows pinned to endpoints that went away (as the kernel modes' conntrack cleanup). */
  pruneFlows() {
    if (!this.flows) return;
    const live = new Set(this.endpoints.map((e) => e.id));
    for (const [id, f] of this.flows) if (!live.has(f.ep)) { clearTimeout(f.timer); this.flows.delete(id); try { f.sock.close(); } catch { /* closed */ } }
  }

  close() {
    try { this.server?.close(); } catch { /* closed */ }
    for (const u of this.udp?.values() ?? []) { try { u.close(); } catch { /* closed */ } }
    for (const f of this.flows?.values() ?? []) { clearTimeout(f.timer); try { f.sock.close(); } catch { /* closed */ } }
  }
}

/** key → Portal */
const portals = new Map();

async function setListeners(specs) {
  const errors = [];
  const want = new Map(specs.map((s) => [s.key, s]));
  for (const [key, p] of portals) {
    const s = want.get(key);
    if (!s || s.port !== p.port || s.protocol !== p.protocol) { p.close(); portals.delete(key); }
  }
  for (const [key, s] of want) {
    const have = portals.get(key);
    if (have) {
      have.update(s);
      have.pruneFlows();
      if (have.udp) await have.bindUdp().catch((e) => errors.push(`listener ${s.port}/UDP for ${key}: ${e.message}`));
      continue;
    }
    const p = new Portal(s);
    try {
      await p.open();
      portals.set(key, p);
    } catch (e) {
      p.close();
      errors.push(`listener ${s.port}/${s.protocol} for ${key}: ${e.message}`);
    }
  }
  return errors;
}

// ---- the control channel ----

const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    let msg;
    try { msg = JSON.parse(line); } catch { return; }
    const errors = [];
    try {
      if (typeof msg.healthy === 'boolean') proxyHealthy = msg.healthy;
      if (Array.isArray(msg.health)) errors.push(...await setHealth(msg.health));
      if (Array.isArray(msg.listeners)) errors.push(...await setListeners(msg.listeners));
    } catch (e) {
      errors.push(String(e?.message ?? e));
    }
    process.stdout.write(`${JSON.stringify({ id: msg.id, errors })}\n`);
  });
});
rl.on('close', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

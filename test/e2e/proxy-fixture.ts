/**
 * Kernel fixture for the proxy's end-to-end tests (root): a node network namespace laid out as the
 * node agent will (bridge cbr0 10.244.0.1/24, forwarding, bridge-nf-call-iptables, hairpin ports),
 * "Pods" in their own namespaces running proxy-echo.mjs, and client namespaces running
 * proxy-client.mjs. Every name carries a random id; `cleanup()` kills the processes it started (by
 * pid) and deletes every namespace, and is safe to call twice. No command here runs in the host's
 * own namespace except creating/deleting namespaces themselves.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const ECHO = join(here, 'proxy-echo.mjs');
const CLIENT = join(here, 'proxy-client.mjs');

function sh(args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command inside `ns`. */
export function inNs(ns: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface FixturePod { name: string; ns: string; ip: string; veth: string; proc?: ChildProcess }

export interface ClientResult { answers: string[]; errors: string[]; ms: number[] }

export class ProxyFixture {
  readonly id = randomBytes(2).toString('hex');
  readonly nodeNs = `cip-${this.id}-n0`;
  private readonly namespaces: string[] = [];
  private readonly procs = new Set<ChildProcess>();
  private nextIp = 2;
  readonly pods = new Map<string, FixturePod>();

  /**
   * Creates the node namespace and its bridge. `serviceRoute` adds a route for the Service CIDR
   * via cbr0: iptables mode needs the node to route ClusterIP traffic (as kube-proxy's iptables
   * mode relies on a default route) because REJECT only works in the forward/input/output hooks.
   */
  /** The node's address on the underlay (NodePorts, LoadBalancer IPs), with `underlay: true`. */
  readonly nodeIP = '172.31.255.10';
  /** The outside host's address on the underlay. */
  readonly outsideIP = '172.31.255.2';
  /** The outside host: a namespace on the underlay with no route to Pods or Services (`underlay: true`). */
  outsideHost = '';

  /**
   * `localServiceRoute` routes the Service CIDR as local in the node (as the cluster does), so
   * traffic to a Service port nobody proxies is refused by the node itself (userspace mode).
   * `underlay` adds the outside host: a namespace joined to the node's `eth1` (NODE_IP/24), as the
   * cluster's underlay joins nodes and its outside host.
   */
  setup(opts: { serviceRoute?: boolean; localServiceRoute?: boolean; underlay?: boolean } = {}): void {
    process.once('SIGTERM', this.onSignal);
    process.once('SIGINT', this.onSignal);
    process.once('exit', this.onExit);
    this.addNs(this.nodeNs);
    const n = this.nodeNs;
    inNs(n, ['ip', 'link', 'set', 'lo', 'up']);
    inNs(n, ['ip', 'link', 'add', 'cbr0', 'type', 'bridge']);
    inNs(n, ['ip', 'addr', 'add', '10.244.0.1/24', 'dev', 'cbr0']);
    inNs(n, ['ip', 'link', 'set', 'cbr0', 'up']);
    inNs(n, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    inNs(n, ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
    if (opts.serviceRoute) {
      inNs(n, ['ip', 'route', 'add', '10.96.0.0/12', 'dev', 'cbr0']);
      // In and out on cbr0: without this the kernel sends an ICMP redirect first, and the host
      // ICMP rate limit then swallows the REJECT's port-unreachable.
      inNs(n, ['sysctl', '-qw', 'net.ipv4.conf.all.send_redirects=0']);
      inNs(n, ['sysctl', '-qw', 'net.ipv4.conf.cbr0.send_redirects=0']);
    }
    if (opts.localServiceRoute) inNs(n, ['ip', 'route', 'add', 'local', '10.96.0.0/12', 'dev', 'lo']);
    if (opts.underlay) {
      const out = `cip-${this.id}-out`;
      this.addNs(out);
      this.outsideHost = out;
      inNs(n, ['ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', out]);
      inNs(n, ['ip', 'addr', 'add', `${this.nodeIP}/24`, 'dev', 'eth1']);
      inNs(n, ['ip', 'link', 'set', 'eth1', 'up']);
      inNs(out, ['ip', 'link', 'set', 'lo', 'up']);
      inNs(out, ['ip', 'addr', 'add', `${this.outsideIP}/24`, 'dev', 'eth0']);
      inNs(out, ['ip', 'link', 'set', 'eth0', 'up']);
    }
  }

  private addNs(ns: string): void {
    sh(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
  }

  /** A namespace attached to cbr0 with the next free 10.244.0.x address. */
  private attach(ns: string): { ip: string; veth: string } {
    const ip = `10.244.0.${this.nextIp++}`;
    const veth = `vp${randomBytes(4).toString('hex')}`;
    inNs(this.nodeNs, ['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    inNs(this.nodeNs, ['ip', 'link', 'set', veth, 'master', 'cbr0']);
    inNs(this.nodeNs, ['ip', 'link', 'set', veth, 'up']);
    inNs(this.nodeNs, ['bridge', 'link', 'set', 'dev', veth, 'hairpin', 'on']);
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    inNs(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    inNs(ns, ['ip', 'link', 'set', 'eth0', 'up']);
    inNs(ns, ['ip', 'route', 'add', 'default', 'via', '10.244.0.1']);
    return { ip, veth };
  }

  /** Starts an echo Pod answering "<name>:<port>" on the given ports (e.g. ['tcp:8080', 'udp:5353']). */
  async addPod(name: string, ports: string[]): Promise<FixturePod> {
    const ns = `cip-${this.id}-p${randomBytes(4).toString('hex')}`;
    this.addNs(ns);
    const { ip, veth } = this.attach(ns);
    const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ECHO, name, ...ports], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.procs.add(proc);
    proc.on('exit', () => this.procs.delete(proc));
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      proc.stdout!.on('data', (d: Buffer) => { buf += d; if (buf.includes('ready')) resolve(); });
      proc.on('exit', (code) => reject(new Error(`echo pod ${name} exited ${code}`)));
    });
    const pod = { name, ns, ip, veth, proc };
    this.pods.set(name, pod);
    return pod;
  }

  /** A client namespace on the bridge (a Pod without a server). */
  addClient(): FixturePod {
    const ns = `cip-${this.id}-p${randomBytes(4).toString('hex')}`;
    this.addNs(ns);
    const { ip, veth } = this.attach(ns);
    return { name: 'client', ns, ip, veth };
  }

  /** A namespace not attached to the bridge at all: only lo, no route to the Service CIDR. */
  addOutside(): string {
    const ns = `cip-${this.id}-o${randomBytes(2).toString('hex')}`;
    this.addNs(ns);
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs proxy-client.mjs in `ns` and returns its JSON result. */
  client(ns: string, args: (string | number)[]): Promise<ClientResult> {
    return new Promise((resolve, reject) => {
      const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, CLIENT, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
      this.procs.add(proc);
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => { out += d; });
      proc.on('exit', (code) => {
        this.procs.delete(proc);
        try { resolve(JSON.parse(out) as ClientResult); } catch { reject(new Error(`client exited ${code}: ${out}`)); }
      });
    });
  }

  /** Stops one Pod's server (the namespace stays until cleanup). */
  stopPod(name: string): void {
    const p = this.pods.get(name);
    if (p?.proc?.pid) p.proc.kill('SIGTERM');
    this.pods.delete(name);
  }

  private readonly onExit = (): void => this.cleanup();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    // A run killed from outside (timeout, Ctrl-C) must not leave namespaces and Pods behind.
    this.cleanup();
    process.kill(process.pid, sig);
  };

  cleanup(): void {
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    process.off('exit', this.onExit);
    for (const p of this.procs) if (p.pid && p.exitCode === null) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
    this.procs.clear();
    for (const ns of this.namespaces.splice(0).reverse()) {
      try { sh(['ip', 'netns', 'del', ns]); } catch { /* already gone */ }
    }
  }
}

/**
 * The OCI runtime: real images, pulled into the machine's image store (src/images), run by runc
 * under conmon — the pairing CRI-O (a Kubernetes container runtime) uses.
 *
 * - **Image**: `pullImage` applies imagePullPolicy against the store and pulls with the Pod's
 *   imagePullSecrets (plus ~/.docker/config.json), loopback and `--insecure-registry` registries
 *   over plain HTTP.
 * - **Root filesystem**: the image's unpacked layers as read-only overlayfs lower layers, a
 *   private upper layer per container instance (a restart starts from the image again, as in
 *   Kubernetes), mounted under the container's dir; `readOnlyRootFilesystem` makes the root
 *   read-only.
 * - **Process**: runc runs a config (ocispec.ts) that joins the Pod's network namespace (the
 *   sandbox holder's) and makes new mount, PID, IPC and UTS namespaces (hostname = the Pod's; an
 *   ephemeral container with a target joins the target's PID namespace instead), with
 *   the Pod's /etc/resolv.conf, /etc/hosts, /etc/hostname and volumes bound in, and cgroup limits.
 *   runc, not crun: Debian's crun 1.8.1 refuses hybrid cgroups ("cgroups in hybrid mode not
 *   supported"), runc 1.1 applies v1 limits there.
 * - **Monitor**: conmon (C, ~2 MB RSS, shared pages mostly) is the container's parent, a
 *   subreaper that outlives the agent; with the `passthrough` log driver the container's stdout
 *   and stderr are the log file itself (the log contract of runtime.ts) and its stdin the FIFO.
 *   When the container ends conmon writes its exit code to `exits/<id>`, so the code is known even
 *   if no agent ran at that moment (better than the catalog runtime's 137).
 * - **TTY** (`tty: true`): runc makes the pseudo-terminal inside the container (its own devpts, so
 *   `tty` says /dev/pts/0 and the shell has a controlling terminal) and hands the master to conmon
 *   (`-t`), as CRI-O does. conmon refuses a TTY with the passthrough driver (TIOCSTI), so its log
 *   driver is `none` and a relay (`TTY_RELAY`, perl) on conmon's attach socket keeps the runtime's
 *   contract: it appends the terminal's output to the log file as it comes (raw, with the
 *   terminal's \r\n, as `kubectl logs` shows for a TTY container in Kubernetes) and writes what the
 *   stdin FIFO gets into the terminal (stdinOnce: an EOF at the end, ^D). It is detached, so the
 *   container and its terminal outlive the agent like any other; window size changes go to
 *   conmon's `ctl` FIFO (`resizeTerminal`).
 * - **OOM**: the memory cgroup's `oom_kill` counter (and conmon's `oom` file) say the kernel
 *   killed it: reason OOMKilled, as the kubelet reports.
 *
 * State (per node agent): `<stateDir>/oci/{runc,exits,containers}`; container ids are
 * `<Pod netns>-<container>-<restart count>`, unique per cluster, Pod, container and instance.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Container } from 'kubernetes-types/core/v1.js';
import type { DockerConfig } from '../../images/auth.js';
import { ImageError } from '../../images/errors.js';
import { formatReference, parseReference, repository } from '../../images/reference.js';
import type { ImageStore, StoredImage } from '../../images/store.js';
import { NodeError } from '../errors.js';
import { pidAlive, pidStartTime, run, runOk } from '../exec.js';
import { openStdin, shellQuote } from '../process.js';
import type { SandboxRecord } from '../sandbox.js';
import { capabilities, cgroupResources, ContainerConfigError, oomScoreAdj, ociSpec, processArgs, resolveUser, type BindMount } from './ocispec.js';
import type { ContainerExit, ContainerRecord, ContainerRuntime, ContainerStats, ImageInfo, PullRequest, RunningContainer, StartRequest } from './runtime.js';

/** The least time between two window sizes written to one conmon (see resizeTerminal). */
const RESIZE_GAP_MS = 50;

/** An image as this runtime found it. */
export interface OciImage extends ImageInfo {
  stored: StoredImage;
}

/** Options of the OCI runtime. */
export interface OciRuntimeOptions {
  store: ImageStore;
  /** The node agent's state dir (`oci/` is made in it). */
  stateDir: string;
  /** Registries reachable over plain HTTP besides loopback ones (`--insecure-registry`). */
  insecureRegistries?: readonly string[];
  /** The kubelet's podPidsLimit (applied per container here); undefined or <= 0: none. */
  podPidsLimit?: number;
  /** Docker config files read for credentials besides imagePullSecrets. Default ~/.docker/config.json. */
  dockerConfigFiles?: readonly string[];
}

/** What a started container's record file holds. */
interface InstanceRecord {
  id: string;
  dir: string;
  cgroupsPath: string;
}

interface OciContainer extends RunningContainer {
  inst: InstanceRecord;
  onExit: (e: ContainerExit) => void;
  /** The exit, once read and cleaned up after. */
  exit?: Promise<ContainerExit>;
  /** onExit was called (it is called once). */
  reported?: boolean;
}

const CONTAINER_ID = /^[\w+.-]+$/;

/**
 * The TTY relay between conmon's attach socket and the container's log file and stdin FIFO
 * (argv: socket, log file, FIFO or '', `once`|`keep`). Perl because the attach socket is
 * SOCK_SEQPACKET, which Node's net module cannot open, and perl-base is part of every Debian
 * system (Socket and IO::Select included). Each packet from conmon is one pipe-id byte and data;
 * what goes to conmon is raw input. It says `ok` once connected (before the container starts, so
 * no output is lost) and ends when conmon closes the socket (the container ended).
 */
const TTY_RELAY = String.raw`
use strict; use warnings; use Socket; use IO::Select; use Fcntl;
my ($sock_path, $log, $fifo, $mode) = @ARGV;
socket(my $s, AF_UNIX, SOCK_SEQPACKET, 0) or die "socket: $!\n";
connect($s, pack_sockaddr_un($sock_path)) or die "connect $sock_path: $!\n";
open(my $out, '>>', $log) or die "open $log: $!\n";
my $in;
if ($fifo ne '') { sysopen($in, $fifo, $mode eq 'once' ? O_RDONLY : O_RDWR) or die "open $fifo: $!\n"; }
$SIG{PIPE} = 'IGNORE';
syswrite(STDOUT, "ok\n"); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
my $sel = IO::Select->new($s); $sel->add($in) if $in;
while (1) {
  for my $fh ($sel->can_read) {
    if (fileno($fh) == fileno($s)) {
      my $n = sysread($s, my $buf, 65536);
      exit 0 unless $n;
      syswrite($out, substr($buf, 1)) if length($buf) > 1;
    } else {
      my $n = sysread($in, my $buf, 8192); # conmon reads a packet into 32 KiB and drops the rest
      if (!$n) { $sel->remove($in); close($in); send($s, "\x04", 0); next; }
      send($s, $buf, 0);
    }
  }
}
`;

/**
 * Where each container start spent its time (ms since startContainer was called, per phase), for
 * the image bench (bench/images) to break the OCI start path down (`startedAt`: performance.now()
 * when it was called); unset: nothing is recorded.
 */
export const ociStartTrace: { sink?: (id: string, startedAt: number, phases: Record<string, number>) => void } = {};

/** Finds a program in the usual system directories. */
function which(name: string): string | undefined {
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export class OciRuntime implements ContainerRuntime {
  readonly scheme = 'runc';
  private readonly root: string;
  private readonly runcRoot: string;
  private readonly exitsDir: string;
  private readonly recordsDir: string;
  private readonly socketsDir: string;
  private readonly runc?: string;
  private readonly conmon?: string;
  private readonly released = new WeakSet<RunningContainer>();
  /** Terminal sizes waiting to be written, per container instance dir (resizeTerminal). */
  private readonly resizes = new Map<string, { next?: string; timer?: NodeJS.Timeout }>();
  /** Containers whose exit file is awaited, by id. */
  private readonly watched = new Map<string, OciContainer>();
  private watcher?: fs.FSWatcher;
  private poll?: NodeJS.Timeout;

  constructor(private readonly opts: OciRuntimeOptions) {
    this.root = path.join(opts.stateDir, 'oci');
    this.runcRoot = path.join(this.root, 'runc');
    this.exitsDir = path.join(this.root, 'exits');
    this.recordsDir = path.join(this.root, 'containers');
    // conmon puts an attach socket under this dir; unix socket paths are limited to 108 bytes.
    this.socketsDir = path.join('/run', 'clusterip-conmon');
    for (const d of [this.runcRoot, this.exitsDir, this.recordsDir, this.socketsDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    this.runc = which('runc');
    this.conmon = which('conmon');
  }

  /** The store this runtime pulls into. */
  get store(): ImageStore {
    return this.opts.store;
  }

  private requireTools(): void {
    if (!this.runc || !this.conmon) {
      throw new NodeError('RUNTIME_UNAVAILABLE', `the OCI runtime needs ${[!this.runc && 'runc', !this.conmon && 'conmon'].filter(Boolean).join(' and ')}: apt-get install runc conmon`);
    }
  }

  // ---- images ----

  private nodeDockerConfigs(): DockerConfig[] {
    const files = this.opts.dockerConfigFiles ?? [path.join(os.homedir(), '.docker', 'config.json')];
    const out: DockerConfig[] = [];
    for (const f of files) {
      try { out.push(JSON.parse(fs.readFileSync(f, 'utf8')) as DockerConfig); } catch { /* none */ }
    }
    return out;
  }

  async pullImage(image: string, req: PullRequest = {}): Promise<OciImage> {
    let name: string;
    try { name = formatReference(parseReference(image)); } catch (e) {
      throw new NodeError('IMAGE_PULL_FAILED', `failed to pull and unpack image "${image}": ${(e as Error).message}`);
    }
    const policy = req.policy ?? 'IfNotPresent';
    const present = this.opts.store.resolve(name);
    if (present && policy !== 'Always') return this.info(name, present);
    if (policy === 'Never') throw new NodeError('IMAGE_NEVER_PULL', `Container image "${image}" is not present with pull policy of Never`);
    req.onPulling?.();
    const t0 = performance.now();
    try {
      // Loaded on the first pull: the registry client (undici, tar) is ~1 MB of code that a
      // cluster whose images all come from the catalog never runs (bench/cluster: start time, RSS).
      const { pullImage } = await import('../../images/pull.js');
      const r = await pullImage(this.opts.store, image, {
        dockerConfigs: [...(req.dockerConfigs ?? []), ...this.nodeDockerConfigs()],
        insecureRegistries: this.opts.insecureRegistries,
      });
      const info = this.info(name, r.image);
      // Always on an unchanged tag: nothing fetched, and the kubelet says so as "already present".
      if (r.fetchedLayers > 0 || !present) info.pulled = { ms: Math.round(performance.now() - t0), bytes: r.image.size };
      return info;
    } catch (e) {
      const msg = e instanceof ImageError ? e.message : `failed to pull and unpack image "${name}": ${(e as Error).message}`;
      throw new NodeError('IMAGE_PULL_FAILED', msg, { cause: e });
    }
  }

  private info(name: string, img: StoredImage): OciImage {
    const env: Record<string, string> = {};
    for (const kv of img.config.config?.Env ?? []) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return { ref: name, imageID: `${repository(parseReference(name))}@${img.digest}`, env, stored: img };
  }

  // ---- containers ----

  private recordPath(id: string): string {
    return path.join(this.recordsDir, `${id}.json`);
  }

  /** True when `id` names a container this runtime started (the selector dispatches on it). */
  owns(id: string): boolean {
    return CONTAINER_ID.test(id) && fs.existsSync(this.recordPath(id));
  }

  private runcArgs(...args: string[]): string[] {
    return [this.runc ?? 'runc', '--root', this.runcRoot, ...args];
  }

  async startContainer(req: StartRequest, onExit: (exit: ContainerExit) => void): Promise<RunningContainer> {
    this.requireTools();
    const img = req.image as OciImage;
    if (!img.stored) throw new NodeError('CONTAINER_START_FAILED', `image ${req.image.ref} was not pulled by the OCI runtime`);
    const c = req.container;
    const id = `${req.sandbox.netns}-${c.name}-${req.attempt}`;
    const dir = path.join(req.containerDir, String(req.attempt));
    const inst: InstanceRecord = { id, dir, cgroupsPath: `/clusterip/${id}` };
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    const mark = (phase: string): void => { if (ociStartTrace.sink) phases[phase] = performance.now() - t0; };
    // A previous instance of this container (a restart) leaves nothing behind: its rootfs goes.
    await this.cleanupDir(req.containerDir);
    mark('cleanup');
    const rootfs = path.join(dir, 'rootfs');
    try {
      for (const d of ['upper', 'work', 'rootfs', 'persist']) fs.mkdirSync(path.join(dir, d), { recursive: true });
      await this.mountRootfs(img.stored, dir);
      mark('mount');
      this.opts.store.touch(img.stored.digest);
      const config = img.stored.config.config ?? {};
      const args = processArgs(config, req.command, req.args);
      if (!args.length) throw new NodeError('CONTAINER_START_FAILED', 'no command specified');
      const read = (f: string): string => { try { return fs.readFileSync(path.join(rootfs, f), 'utf8'); } catch { return ''; } };
      const user = resolveUser(config.User, req.pod.spec?.securityContext, c.securityContext, read('etc/passwd'), read('etc/group'));
      const termLog = path.join(dir, 'termination-log');
      fs.writeFileSync(termLog, '');
      const etc = path.join(req.sandbox.dir, 'etc');
      const mounts: BindMount[] = [
        { source: path.join(etc, 'hosts'), target: '/etc/hosts', readOnly: false },
        { source: path.join(etc, 'resolv.conf'), target: '/etc/resolv.conf', readOnly: false },
        { source: path.join(etc, 'hostname'), target: '/etc/hostname', readOnly: false },
        { source: termLog, target: c.terminationMessagePath ?? '/dev/termination-log', readOnly: false },
        ...(req.mounts ?? []),
      ];
      let hostname = req.sandbox.name;
      try { hostname = fs.readFileSync(path.join(etc, 'hostname'), 'utf8').trim() || hostname; } catch { /* the Pod name */ }
      const sc = c.securityContext;
      // kubectl debug --target: the debug container joins the target's PID namespace and sees its
      // processes (an OCI target's own namespace; a catalog target's is the machine's, which every
      // catalog container sees anyway).
      let pidnsPath: string | undefined;
      if (req.target) {
        pidnsPath = `/proc/${req.target.pid}/ns/pid`;
        const start = req.target.record.pidStart;
        if (!pidAlive(req.target.pid) || (start !== undefined && pidStartTime(req.target.pid) !== start)) {
          throw new NodeError('CONTAINER_START_FAILED', `the target container of ${c.name} is not running: its PID namespace cannot be shared`);
        }
      }
      const spec = ociSpec({
        args, env: req.env, cwd: c.workingDir || config.WorkingDir || '/', user, hostname,
        netnsPath: `/proc/${req.sandbox.holderPid}/ns/net`, pidnsPath, rootfs, readonlyRootfs: !!sc?.readOnlyRootFilesystem, mounts,
        resources: cgroupResources(c, this.opts.podPidsLimit), cgroupsPath: inst.cgroupsPath, capabilities: capabilities(sc),
        noNewPrivileges: sc?.allowPrivilegeEscalation === false, oomScoreAdj: oomScoreAdj(req.pod, c, os.totalmem()), privileged: !!sc?.privileged,
        terminal: req.tty,
      });
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
      fs.writeFileSync(this.recordPath(id), JSON.stringify(inst));
      mark('config');
      const { pid, stdinHold } = await this.create(inst, req);
      mark('create');
      await this.start(id);
      mark('start');
      const cont: OciContainer = {
        id, pid, record: { pid, pidStart: pidStartTime(pid) }, exitObservable: true, scheme: this.scheme, inst, onExit, stdinHold,
      };
      this.watch(cont);
      mark('watch');
      ociStartTrace.sink?.(id, t0, phases);
      return cont;
    } catch (e) {
      await this.cleanup(inst);
      if (e instanceof ContainerConfigError) throw new NodeError('CONTAINER_START_FAILED', e.message);
      throw e;
    }
  }

  /**
   * Lets the created container exec its process. This is what `runc start` does (libcontainer's
   * exec(): `runc init` waits in a blocking open of `<root>/<id>/exec.fifo` for writing; a reader
   * opening it, reading to EOF and removing it lets init exec), done here to spare one Go program
   * start (20–40 ms) per container; `runc start` when the FIFO is not where runc 1.x keeps it.
   */
  private async start(id: string): Promise<void> {
    const fifo = path.join(this.runcRoot, id, 'exec.fifo');
    let fd: fs.promises.FileHandle | undefined;
    try {
      if (!fs.statSync(fifo).isFIFO()) throw new Error('not a FIFO');
      fd = await fs.promises.open(fifo, fs.constants.O_RDONLY);
    } catch {
      await runOk(this.runcArgs('start', id), { timeoutMs: 30_000 });
      return;
    }
    try {
      const got = await fd.readFile();
      if (got.length === 0) throw new NodeError('CONTAINER_START_FAILED', 'the container process did not start (runc init closed its exec FIFO without a word)');
    } finally {
      await fd.close();
      fs.rmSync(fifo, { force: true });
    }
  }

  /** overlayfs: the image's layers read-only below a private upper layer. */
  private async mountRootfs(img: StoredImage, dir: string): Promise<void> {
    const lowers = this.opts.store.layerDirs(img).reverse().join(':');
    await runOk(['mount', '-t', 'overlay', 'overlay', '-o',
      `lowerdir=${lowers},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`, path.join(dir, 'rootfs')]);
  }

  /** `runc create` under conmon; resolves with the container's pid once it exists. */
  private async create(inst: InstanceRecord, req: StartRequest): Promise<{ pid: number; stdinHold?: number }> {
    const log = fs.openSync(req.logPath, 'a');
    // A TTY container's stdin is the terminal (the relay feeds it from the FIFO), not the FIFO itself.
    const stdin = req.stdin ? openStdin(req.stdin.fifo, req.stdin.once) : undefined;
    const io = req.tty
      ? ['-t', ...(req.stdin ? ['-i', '--leave-stdin-open'] : []), '-l', 'none:']
      : ['-l', 'passthrough:'];
    const args = ['--api-version', '1', '-c', inst.id, '-u', inst.id, '-n', inst.id, '-r', this.runc!, '-b', inst.dir,
      '-p', path.join(inst.dir, 'pid'), '--conmon-pidfile', path.join(inst.dir, 'conmon.pid'), '--exit-dir', this.exitsDir,
      '-0', path.join(inst.dir, 'persist'), '--socket-dir-path', this.socketsDir, ...io, '--log-level', 'error',
      '--runtime-arg', `--root=${this.runcRoot}`];
    let child;
    try {
      child = spawn(this.conmon!, args, {
        detached: true, stdio: [req.tty ? 'ignore' : stdin?.fd ?? 'ignore', log, log, 'pipe'], env: { ...process.env, _OCI_SYNCPIPE: '3' },
      });
    } finally {
      fs.closeSync(log);
      if (stdin) fs.closeSync(stdin.fd);
    }
    const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new NodeError('CONTAINER_START_FAILED', 'conmon did not report the container within 30 s')), 30_000);
        sync.on('data', (d: Buffer) => {
          buf += d.toString();
          const line = buf.split('\n')[0];
          if (!buf.includes('\n') || line === undefined) return;
          clearTimeout(timer);
          try {
            const m = JSON.parse(line) as { data: number; message?: string };
            if (m.data > 0) resolve(m.data);
            else reject(new NodeError('CONTAINER_START_FAILED', this.createError(inst, req.logPath, m.message)));
          } catch { reject(new NodeError('CONTAINER_START_FAILED', `conmon: ${line}`)); }
        });
        sync.on('end', () => { clearTimeout(timer); reject(new NodeError('CONTAINER_START_FAILED', this.createError(inst, req.logPath))); });
        child.on('error', (e) => { clearTimeout(timer); reject(new NodeError('CONTAINER_START_FAILED', `conmon: ${e.message}`)); });
      });
      if (req.tty) await this.startRelay(inst, req);
      return { pid, stdinHold: stdin?.hold };
    } catch (e) {
      if (stdin?.hold !== undefined) fs.closeSync(stdin.hold);
      throw e;
    } finally {
      sync.destroy();
      child.unref();
    }
  }

  /** Starts the TTY relay (TTY_RELAY) and waits until it is connected to conmon's attach socket. */
  private async startRelay(inst: InstanceRecord, req: StartRequest): Promise<void> {
    const perl = which('perl');
    if (!perl) throw new NodeError('CONTAINER_START_FAILED', 'a container with tty: true needs perl (perl-base) for its terminal relay');
    const relay = spawn(perl, ['-e', TTY_RELAY, path.join(this.socketsDir, inst.id, 'attach'), req.logPath,
      req.stdin?.fifo ?? '', req.stdin?.once ? 'once' : 'keep'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    relay.stderr!.on('data', (d: Buffer) => { said += d.toString(); });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
        relay.stdout!.on('data', (d: Buffer) => { if (d.toString().startsWith('ok')) { clearTimeout(timer); resolve(); } });
        relay.on('error', (e) => { clearTimeout(timer); reject(e); });
        relay.on('exit', () => { clearTimeout(timer); setImmediate(() => reject(new Error(said.trim() || 'it ended'))); });
      });
    } catch (e) {
      try { relay.kill('SIGKILL'); } catch { /* gone */ }
      throw new NodeError('CONTAINER_START_FAILED', `the terminal relay of ${inst.id} failed: ${(e as Error).message}`);
    } finally {
      relay.stdout!.destroy();
      relay.stderr!.destroy();
      relay.unref();
    }
  }

  /** A TTY container's new window size (kubectl's resize stream), through conmon's control FIFO. */
  resizeTerminal(c: RunningContainer, width: number, height: number): void {
    const inst = (c as OciContainer).inst;
    if (!inst || !Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return;
    // conmon 2.1.6 (Debian 12) processes every line of one read of its ctl FIFO as the first line
    // (read_from_ctrl_buffer passes the buffer's start, not the line's), so two sizes written back
    // to back — kubectl sends its size + 1, then its size — would leave the terminal at the first.
    // Sizes are therefore written at most one per RESIZE_GAP_MS, the latest one winning.
    const key = inst.dir;
    const q: { next?: string; timer?: NodeJS.Timeout } = this.resizes.get(key) ?? {};
    this.resizes.set(key, q);
    q.next = `1 ${height} ${width}\n`;
    const flush = (): void => {
      const line = q.next;
      q.next = undefined;
      if (line === undefined) { this.resizes.delete(key); return; }
      try {
        const fd = fs.openSync(path.join(inst.dir, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        try { fs.writeSync(fd, line); } finally { fs.closeSync(fd); }
      } catch { /* not a TTY container, or it ended */ }
      q.timer = setTimeout(flush, RESIZE_GAP_MS);
      q.timer.unref();
    };
    if (!q.timer) flush();
  }

  /** runc's reason for a failed create: it writes it (as logfmt) to the container's log. */
  private createError(inst: InstanceRecord, logPath: string, message?: string): string {
    let text = message ?? '';
    try {
      const log = fs.readFileSync(logPath, 'utf8').split('\n').filter((l) => l.includes('level=error') || l.includes('level=fatal'));
      const last = log.pop();
      const m = last ? /msg="((?:[^"\\]|\\.)*)"/.exec(last) : undefined;
      if (m) text = m[1]!.replace(/\\"/g, '"');
    } catch { /* no log */ }
    return `failed to create containerd task: failed to create shim task: OCI runtime create failed: ${text || `runc create of ${inst.id} failed`}`;
  }

  /** Watches the exit dir (one inotify watch for every container), with a slow poll as a backstop. */
  private watch(c: OciContainer): void {
    this.watched.set(c.id, c);
    if (!this.watcher) {
      this.watcher = fs.watch(this.exitsDir, (_ev, file) => { if (file) this.checkExit(String(file)); });
      this.watcher.unref();
      this.poll = setInterval(() => { for (const id of this.watched.keys()) this.checkExit(id); }, 1000);
      this.poll.unref();
    }
    this.checkExit(c.id);
  }

  private checkExit(id: string): void {
    const c = this.watched.get(id);
    if (!c || !fs.existsSync(path.join(this.exitsDir, id))) return;
    this.watched.delete(id);
    void this.finish(c).then((exit) => this.report(c, exit));
  }

  /**
   * Reads how the container ended (conmon's exit file, the cgroup's OOM counter, the termination
   * message) and removes it (runc state and cgroup, the rootfs mount and dir). Once per container.
   */
  private finish(c: OciContainer): Promise<ContainerExit> {
    c.exit ??= (async () => {
      const exitFile = path.join(this.exitsDir, c.id);
      let code = 137;
      try { code = Number(fs.readFileSync(exitFile, 'utf8').trim()); } catch { /* unknown: killed */ }
      if (!Number.isFinite(code)) code = 137;
      const exit: ContainerExit = { exitCode: code, ...(code > 128 ? { signal: code - 128 } : {}) };
      if (this.oomKilled(c.inst)) exit.reason = 'OOMKilled';
      try {
        const msg = fs.readFileSync(path.join(c.inst.dir, 'termination-log'), 'utf8').slice(0, 4096);
        if (msg) exit.message = msg;
      } catch { /* none */ }
      await this.cleanup(c.inst);
      return exit;
    })();
    return c.exit;
  }

  private oomKilled(inst: InstanceRecord): boolean {
    try {
      const t = fs.readFileSync(path.join('/sys/fs/cgroup/memory', inst.cgroupsPath, 'memory.oom_control'), 'utf8');
      if (Number(/oom_kill (\d+)/.exec(t)?.[1] ?? 0) > 0) return true;
    } catch { /* cgroup v2 or gone */ }
    return fs.existsSync(path.join(inst.dir, 'persist', 'oom'));
  }

  /** Removes everything of one instance; idempotent. */
  private async cleanup(inst: InstanceRecord): Promise<void> {
    await run(this.runcArgs('delete', '--force', inst.id), { timeoutMs: 30_000 });
    const rootfs = path.join(inst.dir, 'rootfs');
    if (isMountPoint(rootfs)) await run(['umount', '-l', rootfs]);
    fs.rmSync(inst.dir, { recursive: true, force: true });
    fs.rmSync(path.join(this.exitsDir, inst.id), { force: true });
    fs.rmSync(this.recordPath(inst.id), { force: true });
    fs.rmSync(path.join(this.socketsDir, inst.id), { recursive: true, force: true });
  }

  /** Removes every instance dir left under a container's dir (earlier restarts). */
  private async cleanupDir(containerDir: string): Promise<void> {
    let entries: string[] = [];
    try { entries = fs.readdirSync(containerDir); } catch { return; }
    for (const e of entries) {
      if (!/^\d+$/.test(e)) continue;
      const dir = path.join(containerDir, e);
      let inst: InstanceRecord | undefined;
      for (const f of fs.readdirSync(this.recordsDir)) {
        try { const r = JSON.parse(fs.readFileSync(path.join(this.recordsDir, f), 'utf8')) as InstanceRecord; if (r.dir === dir) inst = r; } catch { /* skip */ }
      }
      if (inst) {
        // Still running (should not be: the worker stops before restarting): end it first.
        const pid = readPid(path.join(dir, 'pid'));
        if (pid && pidAlive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } await waitGone(pid, 2000); }
        await this.cleanup(inst);
      } else {
        const rootfs = path.join(dir, 'rootfs');
        if (isMountPoint(rootfs)) await run(['umount', '-l', rootfs]);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  adoptContainer(_sandbox: SandboxRecord, id: string, record: ContainerRecord, onExit: (exit: ContainerExit) => void): RunningContainer | undefined {
    if (!this.owns(id)) return undefined;
    let inst: InstanceRecord;
    try { inst = JSON.parse(fs.readFileSync(this.recordPath(id), 'utf8')) as InstanceRecord; } catch { return undefined; }
    const c: OciContainer = { id, pid: record.pid, record, exitObservable: true, scheme: this.scheme, inst, onExit };
    const ended = fs.existsSync(path.join(this.exitsDir, id));
    if (!ended && !(pidAlive(record.pid) && pidStartTime(record.pid) === record.pidStart)) {
      // Neither running nor reported by conmon (conmon itself was killed): gone, nothing to tell.
      void this.cleanup(inst);
      return undefined;
    }
    // Ended while no agent watched: conmon kept the exit code; it is reported on the next tick.
    this.watch(c);
    return c;
  }

  async stopContainer(c: RunningContainer, deadline: () => number): Promise<void> {
    const oc = c as OciContainer;
    const alive = (): boolean => pidAlive(c.pid) && pidStartTime(c.pid) === c.record.pidStart;
    if (alive()) {
      // To the container's init: a PID-namespace init ignores SIGTERM unless it handles it (as
      // with docker stop); SIGKILL from outside always ends the namespace.
      try { process.kill(c.pid, deadline() <= Date.now() ? 'SIGKILL' : 'SIGTERM'); } catch { /* gone */ }
      while (alive() && Date.now() < deadline()) await new Promise((r) => setTimeout(r, 20));
      if (alive()) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
      await waitGone(c.pid, 2000);
    }
    // conmon writes the exit file right after; then everything of the instance is removed.
    const exitFile = path.join(this.exitsDir, c.id);
    const end = Date.now() + 2000;
    while (!fs.existsSync(exitFile) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    this.watched.delete(c.id);
    this.report(oc, await this.finish(oc));
  }

  private report(c: OciContainer, exit: ContainerExit): void {
    if (c.reported || this.released.has(c)) return;
    c.reported = true;
    c.onExit(exit);
  }

  release(c: RunningContainer): void {
    this.released.add(c);
    this.watched.delete(c.id);
  }

  execArgv(_sandbox: SandboxRecord, _container: Container, command: string[], running?: RunningContainer, opts: { tty?: boolean } = {}): string[] {
    if (!running) throw new NodeError('CONTAINER_NOT_FOUND', 'the container is not running');
    // runc exec takes the container's own process settings (env, cwd, user, capabilities) and
    // cgroup; a TTY comes from `script` around it, as for catalog containers.
    const argv = this.runcArgs('exec', running.id, ...command);
    return opts.tty ? ['script', '-qfec', shellQuote(argv), '/dev/null'] : argv;
  }

  containerEnv(c: RunningContainer): Record<string, string> {
    try {
      const env: Record<string, string> = {};
      for (const kv of fs.readFileSync(`/proc/${c.pid}/environ`, 'utf8').split('\0')) {
        const i = kv.indexOf('=');
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
      }
      return env;
    } catch {
      return {};
    }
  }

  stats(c: RunningContainer): ContainerStats | undefined {
    const inst = (c as OciContainer).inst;
    try {
      const cpuNanos = Number(fs.readFileSync(path.join('/sys/fs/cgroup/cpuacct', inst.cgroupsPath, 'cpuacct.usage'), 'utf8'));
      const mem = path.join('/sys/fs/cgroup/memory', inst.cgroupsPath);
      const usage = Number(fs.readFileSync(path.join(mem, 'memory.usage_in_bytes'), 'utf8'));
      const inactive = Number(/^total_inactive_file (\d+)$/m.exec(fs.readFileSync(path.join(mem, 'memory.stat'), 'utf8'))?.[1] ?? 0);
      return { cpuNanos, memoryWorkingSetBytes: Math.max(0, usage - inactive) };
    } catch {
      return undefined;
    }
  }

  /** Stops watching (agent stop); containers go on running. */
  close(): void {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    this.watcher = undefined;
    this.watched.clear();
  }
}

function readPid(file: string): number | undefined {
  try { return Number(fs.readFileSync(file, 'utf8').trim()) || undefined; } catch { return undefined; }
}

async function waitGone(pid: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (pidAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/** Whether `dir` is a mount point (its device differs from its parent's, or mountinfo lists it). */
function isMountPoint(dir: string): boolean {
  try {
    const a = fs.statSync(dir);
    const b = fs.statSync(path.dirname(dir));
    if (a.dev !== b.dev) return true;
  } catch { return false; }
  try { return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir); } catch { return false; }
}

/** True when runc and conmon are installed (tests skip the OCI runtime otherwise, saying so). */
export function ociToolsPresent(): boolean {
  return !!which('runc') && !!which('conmon') && spawnSync(which('runc')!, ['--version']).status === 0;
}

/**
 * Removes what OCI containers of a cluster left when no agent could clean up (its daemon was
 * killed, then `clusterip down`): each recorded container's runc state and cgroups (`runc delete
 * --force` also kills what still runs), its rootfs mount and its records. `stateDir` is the
 * cluster's; node agents keep `oci/` in their own dirs below it.
 */
export async function removeOciLeftovers(stateDir: string): Promise<number> {
  const runc = which('runc');
  let n = 0;
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    if (entries.some((e) => e.name === 'oci' && e.isDirectory())) {
      const root = path.join(dir, 'oci');
      let recs: string[] = [];
      try { recs = fs.readdirSync(path.join(root, 'containers')); } catch { /* none */ }
      for (const f of recs) {
        let inst: InstanceRecord;
        try { inst = JSON.parse(fs.readFileSync(path.join(root, 'containers', f), 'utf8')) as InstanceRecord; } catch { continue; }
        if (runc) await run([runc, '--root', path.join(root, 'runc'), 'delete', '--force', inst.id], { timeoutMs: 30_000 });
        const rootfs = path.join(inst.dir, 'rootfs');
        if (isMountPoint(rootfs)) await run(['umount', '-l', rootfs]);
        fs.rmSync(inst.dir, { recursive: true, force: true });
        fs.rmSync(path.join(root, 'containers', f), { force: true });
        fs.rmSync(path.join(root, 'exits', inst.id), { force: true });
        n++;
      }
    }
    if (depth > 0) for (const e of entries) if (e.isDirectory() && e.name !== 'oci' && e.name !== 'pods') await visit(path.join(dir, e.name), depth - 1);
  };
  await visit(stateDir, 2);
  return n;
}

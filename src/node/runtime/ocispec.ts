/**
 * The OCI runtime spec (config.json) of one container, and the Kubernetes rules that go into it,
 * pure (tested in ocispec.test.ts without a kernel):
 * - `processArgs`: command/args over the image's Entrypoint/Cmd, as the kubelet merges them;
 * - `resolveUser`: securityContext runAsUser/runAsGroup/supplementalGroups/fsGroup over the image's
 *   User (`name`, `uid`, `name:group`, `uid:gid`), names looked up in the image's /etc/passwd and
 *   /etc/group as containerd does; runAsNonRoot refused for uid 0 in the kubelet's words;
 * - `capabilities`: containerd's default set, securityContext add/drop (`ALL` too), privileged;
 * - `cgroupResources`: limits.memory, limits.cpu (CFS quota), requests.cpu (shares) and the
 *   node's pod pids limit, converted as the kubelet converts them;
 * - `oomScoreAdj`: the kubelet's per-QoS-class OOM score adjustment;
 * - `ociSpec`: everything above plus namespaces (the Pod's network namespace joined; new mount,
 *   PID, IPC and UTS namespaces with the Pod's hostname; a debug container's target's PID
 *   namespace joined instead of a new one), containerd's default mounts, masked and
 *   read-only paths, and the Pod's /etc/resolv.conf, /etc/hosts, /etc/hostname and volumes.
 */
import type { Container, Pod, PodSecurityContext, SecurityContext } from 'kubernetes-types/core/v1.js';

/** Kubernetes command/args over the image's Entrypoint/Cmd (the kubelet's rule). */
export function processArgs(image: { Entrypoint?: string[] | null; Cmd?: string[] | null }, command?: string[], args?: string[]): string[] {
  if (command?.length) return [...command, ...(args ?? [])];
  return [...(image.Entrypoint ?? []), ...(args?.length ? args : (image.Cmd ?? []))];
}

/** A user as the runtime runs the process. */
export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

/** A start failure the kubelet reports as CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

function parseTable(text: string): string[][] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/**
 * The uid, gid and supplementary groups of the container's process (see the module comment).
 * `passwd`/`group` are the image's files ('' when absent).
 */
export function resolveUser(imageUser: string | undefined, pod: PodSecurityContext | undefined, ctr: SecurityContext | undefined, passwd: string, group: string): ProcessUser {
  const users = parseTable(passwd);
  const groups = parseTable(group);
  const [uPart = '', gPart] = (imageUser ?? '').split(':');
  let uid = 0;
  let gid: number | undefined;
  let name: string | undefined;
  if (uPart) {
    if (/^\d+$/.test(uPart)) {
      uid = Number(uPart);
      const u = users.find((f) => Number(f[2]) === uid);
      if (u) { name = u[0]; gid = Number(u[3]); }
    } else {
      const u = users.find((f) => f[0] === uPart);
      if (!u) throw new ContainerConfigError(`unable to find user ${uPart}: no matching entries in passwd file`);
      uid = Number(u[2]); gid = Number(u[3]); name = uPart;
    }
  } else {
    name = users.find((f) => Number(f[2]) === 0)?.[0] ?? 'root';
  }
  if (gPart) {
    if (/^\d+$/.test(gPart)) gid = Number(gPart);
    else {
      const g = groups.find((f) => f[0] === gPart);
      if (!g) throw new ContainerConfigError(`unable to find group ${gPart}: no matching entries in group file`);
      gid = Number(g[2]);
    }
  }
  const runAsUser = ctr?.runAsUser ?? pod?.runAsUser;
  if (runAsUser !== undefined) {
    uid = runAsUser;
    const u = users.find((f) => Number(f[2]) === uid);
    name = u?.[0];
    gid = u ? Number(u[3]) : 0;
  }
  const runAsGroup = ctr?.runAsGroup ?? pod?.runAsGroup;
  if (runAsGroup !== undefined) gid = runAsGroup;
  if ((ctr?.runAsNonRoot ?? pod?.runAsNonRoot) && uid === 0) {
    throw new ContainerConfigError(runAsUser !== undefined
      ? 'container\'s runAsUser breaks non-root policy'
      : 'container has runAsNonRoot and image will run as root');
  }
  const extra = new Set<number>();
  if (name) for (const g of groups) if ((g[3] ?? '').split(',').includes(name)) extra.add(Number(g[2]));
  for (const g of pod?.supplementalGroups ?? []) extra.add(g);
  if (pod?.fsGroup !== undefined) extra.add(pod.fsGroup);
  // The primary group is listed too (`id` in a Kubernetes Pod shows groups=<gid>,…, as containerd sets it).
  extra.add(gid ?? 0);
  return { uid, gid: gid ?? 0, additionalGids: [...extra].sort((a, b) => a - b) };
}

/** containerd's default capabilities (oci.WithDefaultSpec). */
export const DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

/** Every capability of Linux 6.x (for privileged and `add: [ALL]`). */
export const ALL_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'];

/** The process's capabilities: defaults, then drop, then add (containerd's order), or all when privileged. */
export function capabilities(sc: SecurityContext | undefined): string[] {
  if (sc?.privileged) return [...ALL_CAPS];
  const norm = (c: string): string => { const u = c.toUpperCase(); return u === 'ALL' ? 'ALL' : u.startsWith('CAP_') ? u : `CAP_${u}`; };
  const drop = (sc?.capabilities?.drop ?? []).map(norm);
  const add = (sc?.capabilities?.add ?? []).map(norm);
  for (const c of [...drop, ...add]) {
    if (c !== 'ALL' && !ALL_CAPS.includes(c)) throw new ContainerConfigError(`unknown capability "${c}"`);
  }
  let caps = drop.includes('ALL') ? [] : DEFAULT_CAPS.filter((c) => !drop.includes(c));
  if (add.includes('ALL')) caps = [...ALL_CAPS];
  for (const c of add) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  return caps;
}

/** A Kubernetes quantity in base units (bytes, cores): `64Mi`, `1G`, `500m`, `1.5`, `2e3`. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(q.trim());
  if (!m) throw new ContainerConfigError(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${JSON.stringify(q)}`);
  const mult: Record<string, number> = {
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
    n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}

/** cgroup v1 settings of one container (OCI `linux.resources`). */
export interface CgroupResources {
  memory?: { limit: number };
  cpu?: { shares?: number; quota?: number; period?: number };
  pids?: { limit: number };
}

/** The kubelet's conversions: milliCPU → shares (×1024/1000, min 2) and CFS quota (period 100 ms). */
export function cgroupResources(c: Container, podPidsLimit?: number): CgroupResources {
  const r: CgroupResources = {};
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  if (limits.memory !== undefined) r.memory = { limit: Math.ceil(parseQuantity(limits.memory)) };
  const cpuReq = requests.cpu ?? limits.cpu;
  const cpu: NonNullable<CgroupResources['cpu']> = {};
  // No request: the kubelet's MinShares (2), so a BestEffort container yields to every other one.
  const milli = cpuReq !== undefined ? Math.ceil(parseQuantity(cpuReq) * 1000) : 0;
  cpu.shares = Math.max(2, Math.floor((milli * 1024) / 1000));
  if (limits.cpu !== undefined) {
    const lim = Math.ceil(parseQuantity(limits.cpu) * 1000);
    cpu.period = 100_000;
    cpu.quota = Math.max(1000, Math.floor((lim * 100_000) / 1000));
  }
  r.cpu = cpu;
  if (podPidsLimit !== undefined && podPidsLimit > 0) r.pids = { limit: podPidsLimit };
  return r;
}

/** The Pod's QoS class (Guaranteed, Burstable, BestEffort) as the kubelet computes it. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const k of ['cpu', 'memory']) {
      const l = lim[k];
      const q = req[k] ?? l;
      if (l === undefined || q === undefined || parseQuantity(l) !== parseQuantity(q)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * The kubelet's oom_score_adj (pkg/kubelet/qos/policy.go): Guaranteed -997, BestEffort 1000,
 * Burstable 1000 - 1000 × memory request / node memory, kept within [3, 999].
 */
export function oomScoreAdj(pod: Pod, c: Container, nodeMemoryBytes: number): number {
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const req = c.resources?.requests?.memory;
  const bytes = req !== undefined ? parseQuantity(req) : 0;
  const adj = 1000 - Math.floor((1000 * bytes) / nodeMemoryBytes);
  return Math.min(999, Math.max(3, adj));
}

/** One bind mount into the container. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Everything `ociSpec` needs. */
export interface OciSpecInput {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  user: ProcessUser;
  hostname: string;
  /** The Pod's network namespace (`/proc/<holder>/ns/net`). */
  netnsPath: string;
  /**
   * A PID namespace to join instead of making one (`/proc/<target pid>/ns/pid`): an ephemeral
   * container's `targetContainerName`, as CRI's NamespaceMode_TARGET.
   */
  pidnsPath?: string;
  rootfs: string;
  readonlyRootfs: boolean;
  /** The Pod's /etc files and volumes, plus the termination-log file. */
  mounts: BindMount[];
  resources: CgroupResources;
  cgroupsPath: string;
  capabilities: string[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  privileged?: boolean;
  /** `tty: true`: runc makes a pseudo-terminal inside the container for its stdio (conmon holds the master). */
  terminal?: boolean;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The config.json of one container (OCI runtime spec 1.0, what runc 1.1 reads). */
export function ociSpec(i: OciSpecInput): Record<string, unknown> {
  const env = { ...i.env };
  if (env.PATH === undefined) env.PATH = DEFAULT_PATH;
  // As containerd and CRI-O do for a TTY container.
  if (i.terminal && env.TERM === undefined) env.TERM = 'xterm';
  const caps = i.capabilities;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: !!i.terminal,
      user: { uid: i.user.uid, gid: i.user.gid, ...(i.user.additionalGids.length ? { additionalGids: i.user.additionalGids } : {}) },
      args: i.args,
      env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      cwd: i.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: i.noNewPrivileges,
      ...(i.oomScoreAdj !== undefined ? { oomScoreAdj: i.oomScoreAdj } : {}),
    },
    root: { path: i.rootfs, readonly: i.readonlyRootfs },
    hostname: i.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', i.privileged ? 'rw' : 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      ...i.mounts.map((m) => ({ destination: m.target, type: 'bind', source: m.source, options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw'] })),
    ],
    linux: {
      namespaces: [i.pidnsPath ? { type: 'pid', path: i.pidnsPath } : { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: i.netnsPath }],
      cgroupsPath: i.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        ...i.resources,
      },
      ...(i.privileged ? {} : {
        maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
          '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
        readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      }),
    },
  };
}

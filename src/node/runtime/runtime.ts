/**
 * The container runtime interface: the small set of operations the Pod worker needs from whatever
 * actually runs a container (the kubelet's CRI, cut down to what clusterip uses). Everything above
 * it — sandbox (network namespace, IP, /etc files), restarts and backoff, probes, status, Events,
 * logs, exec/attach/port-forward plumbing — is the same for every runtime; a runtime only turns
 * "run this container of this Pod in this sandbox" into processes.
 *
 * Implementations (one file each in this folder):
 * - `catalog.ts` — the catalog runtime: an image name maps to a local program (images/catalog.ts),
 *   started with nsenter into the sandbox's namespaces (process.ts).
 * - `oci.ts` — the OCI runtime: images pulled from registries into the shared store
 *   (src/images), run by runc under conmon in the Pod's network namespace.
 * - `select.ts` — not a runtime of its own: picks one of the two per image (`--images`).
 *
 * Contract (what the worker relies on):
 * - `startContainer` returns once the process exists; its stdout and stderr go, unbuffered and in
 *   order, to `req.logPath` (chosen by the worker, as the kubelet chooses CRI's log_path), appended.
 *   `onExit` is called exactly once when the container's main process has ended.
 * - Containers outlive the agent (a restarted agent re-adopts them): `record` of a running
 *   container is persisted by the worker, and `adoptContainer(record)` finds the container again
 *   (or answers undefined when it is gone), after which `onExit` is called when it ends.
 * - `stopContainer` ends the container's whole process tree: SIGTERM, then SIGKILL at the deadline.
 * - `execArgv` gives the argv that runs a command inside the container (kubectl exec, exec probes,
 *   lifecycle hooks) with the container's namespaces (its mounts included) and working directory.
 * - `StartRequest.mounts` (the Pod's volumes) are visible to that container only.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { DockerConfig } from '../../images/auth.js';
import type { SandboxRecord } from '../sandbox.js';
import type { ContainerMount } from '../volumes/mounts.js';

/** An image as the runtime found (pulled) it. */
export interface ImageInfo {
  /** Normalized reference, e.g. `nginx:latest`. */
  ref: string;
  /** Shown as the container status' imageID. */
  imageID: string;
  /** The image's own environment (the kubelet puts it below the container's env). */
  env: Record<string, string>;
  /** Set when this call pulled the image (the `Pulled` Event's figures); absent: it was present. */
  pulled?: { ms: number; bytes: number };
  /** What the container will run when that is not the image's own content (catalog images). */
  note?: string;
}

/** How to find an image (the container's imagePullPolicy, the Pod's imagePullSecrets). */
export interface PullRequest {
  /** Default IfNotPresent. `Never`: only what is present (NodeError IMAGE_NEVER_PULL otherwise). */
  policy?: 'Always' | 'IfNotPresent' | 'Never';
  /** `.dockerconfigjson` of the Pod's imagePullSecrets. */
  dockerConfigs?: DockerConfig[];
  /** Called once a registry pull really starts (the `Pulling` Event). */
  onPulling?(): void;
}

/** A directory or file of the agent's bound into the container (volumes; ../volumes/mounts.ts). */
export type { ContainerMount };

/** Everything needed to start one container instance. */
export interface StartRequest {
  sandbox: SandboxRecord;
  /** The Pod (securityContext, QoS class). */
  pod: Pod;
  container: Container;
  /** The restart count of this instance (0 for the first). */
  attempt: number;
  /** What `pullImage` returned for `container.image`. */
  image: ImageInfo;
  /** The container's command and args with $(VAR) already expanded (undefined: the image's). */
  command?: string[];
  args?: string[];
  /** The container's full environment (image env, Service links, env/valueFrom). */
  env: Record<string, string>;
  /** A directory private to this container (kept across restarts, removed with the Pod). */
  containerDir: string;
  /** Where stdout and stderr go (appended). */
  logPath: string;
  /**
   * For an ephemeral container with a targetContainerName (`kubectl debug --target`): the running
   * target. A runtime that gives each container its own PID namespace runs this one in the
   * target's (CRI's `NamespaceMode_TARGET`). The catalog runtime has no PID namespaces (every
   * container sees the machine's processes, the target's included) and ignores it.
   */
  target?: RunningContainer;
  /** spec.stdin: a FIFO to read from; `once` = spec.stdinOnce. */
  stdin?: { fifo: string; once: boolean };
  tty: boolean;
  /**
   * The container's volumeMounts as bind mounts (volume directories of the agent's → mountPaths).
   * They must be visible to this container only: the catalog runtime gives it a mount namespace of
   * its own, the OCI runtime binds them in its config.
   */
  mounts?: ContainerMount[];
}

/** What a runtime persists about a running container so a later agent can find it again. */
export interface ContainerRecord {
  pid: number;
  /** /proc start time of `pid` (a reused pid is never mistaken for the container). */
  pidStart?: string;
}

/** How a container's main process ended. */
export interface ContainerExit {
  exitCode: number;
  signal?: number;
  /** Status reason when the runtime knows better than the exit code (`OOMKilled`). */
  reason?: string;
  /** The termination message (what the container wrote to its terminationMessagePath). */
  message?: string;
}

/** Resource use of a running container (cgroup counters; the metrics API reads them). */
export interface ContainerStats {
  /** CPU time used since the container started, in nanoseconds. */
  cpuNanos: number;
  /** Working set (usage minus inactive file cache), in bytes, as cAdvisor reports it. */
  memoryWorkingSetBytes: number;
}

/** A running container instance. */
export interface RunningContainer {
  /** Runtime-specific id; the status shows `<runtime scheme>://<id>` as containerID. */
  readonly id: string;
  /** The main process (host pid namespace): its /proc entry gives the container's environment. */
  readonly pid: number;
  readonly record: ContainerRecord;
  /** stdinOnce: the agent's write end of the stdin FIFO (close it to give the container EOF). */
  stdinHold?: number;
  /** False for an adopted container: its exit code cannot be observed (reported as 137). */
  readonly exitObservable: boolean;
  /** Scheme of its containerID (`catalog`, `runc`); default the runtime's `scheme`. */
  readonly scheme?: string;
}

/** The operations the Pod worker needs from a container runtime. */
export interface ContainerRuntime {
  /** Scheme of container IDs in status (`catalog://…`, `runc://…`). */
  readonly scheme: string;
  /**
   * Finds (pulls) an image; throws NodeError (IMAGE_NOT_FOUND, IMAGE_PULL_FAILED, IMAGE_NEVER_PULL)
   * with a message for the user.
   */
  pullImage(image: string, req?: PullRequest): Promise<ImageInfo>;
  /** Starts one container in the sandbox; `onExit` once when its main process ends. */
  startContainer(req: StartRequest, onExit: (exit: ContainerExit) => void): Promise<RunningContainer>;
  /** Finds a container a previous agent started (undefined when it is gone); `onExit` as above. */
  adoptContainer(sandbox: SandboxRecord, id: string, record: ContainerRecord, onExit: (exit: ContainerExit) => void): RunningContainer | undefined;
  /**
   * SIGTERM to the container's process tree, SIGKILL at the deadline (epoch ms; a function so a
   * later, shorter grace period can pull it in). Resolves once the main process is gone.
   */
  stopContainer(c: RunningContainer, deadline: () => number): Promise<void>;
  /** Stops watching a container without stopping it (agent stop with keepPods, or after exit). */
  release(c: RunningContainer): void;
  /**
  /**
   * argv that runs `command` inside the container (exec, probes, hooks) with its namespaces — its
   * own mount namespace holds its volumes; `running` is the instance to enter (runtimes that
   * address containers by id need it); `tty`: under a pseudo-terminal.
   */
  execArgv(sandbox: SandboxRecord, container: Container, command: string[], running?: RunningContainer, opts?: { tty?: boolean }): string[];
  /** The environment of the running container's main process (what exec sees). */
  containerEnv(c: RunningContainer): Record<string, string>;
  /** A TTY container's new window size (attach's resize stream); absent or a no-op where unsupported. */
  resizeTerminal?(c: RunningContainer, width: number, height: number): void;
  /** CPU and memory use of a running container, when the runtime can tell (cgroups). */
  stats?(c: RunningContainer): ContainerStats | undefined;
}

/**
 * Which runtime runs an image, per cluster (`clusterip up --images`):
 * - `auto` (default): the catalog when it has an entry for the image (the seeds' nginx, busybox,
 *   curl, agnhost, pause: they start in milliseconds, offline), else the image is pulled and run
 *   by the OCI runtime;
 * - `catalog`: only the catalog (no registry is ever contacted; an unknown image is
 *   ErrImagePull with how to add it);
 * - `oci`: every image is pulled from its registry and run by runc — `nginx:1.27` is the real
 *   nginx 1.27 — except the cluster's own system images (`clusterip/*`, the DNS server), which
 *   exist only in the catalog.
 *
 * Not a runtime of its own: it implements the interface by handing each call to the runtime that
 * found the image (remembered per ImageInfo and per RunningContainer), and adopts a container by
 * asking the OCI runtime whether the id is one of its own.
 */
import type { Container } from 'kubernetes-types/core/v1.js';
import { isImageError } from '../../images/errors.js';
import { NodeError } from '../errors.js';
import type { SandboxRecord } from '../sandbox.js';
import type { CatalogRuntime } from './catalog.js';
import type { OciRuntime } from './oci.js';
import type { ContainerExit, ContainerRecord, ContainerRuntime, ContainerStats, ImageInfo, PullRequest, RunningContainer, StartRequest } from './runtime.js';

/** The `--images` modes. */
export type ImageMode = 'auto' | 'catalog' | 'oci';
export const IMAGE_MODES: readonly ImageMode[] = ['auto', 'catalog', 'oci'];

/** System images that only the catalog has (they are this program, not an image). */
function systemImage(image: string): boolean {
  return /^(docker\.io\/)?clusterip\//.test(image.trim());
}

export class SelectingRuntime implements ContainerRuntime {
  /** Reported as the Node's runtime; each container's own scheme is in its containerID. */
  readonly scheme: string;
  private readonly byImage = new WeakMap<ImageInfo, ContainerRuntime>();
  private readonly byContainer = new WeakMap<RunningContainer, ContainerRuntime>();

  constructor(readonly mode: ImageMode, private readonly catalog: CatalogRuntime, private readonly oci?: OciRuntime) {
    this.scheme = mode === 'catalog' ? catalog.scheme : 'runc';
  }

  async pullImage(image: string, req?: PullRequest): Promise<ImageInfo> {
    let rt: ContainerRuntime = this.catalog;
    if (this.mode === 'oci' && !systemImage(image)) rt = this.needOci();
    let info: ImageInfo;
    if (this.mode === 'auto' && !systemImage(image)) {
      try {
        info = await this.catalog.pullImage(image);
      } catch (e) {
        if (!(e instanceof NodeError) || e.code !== 'IMAGE_NOT_FOUND' || !this.oci) throw e;
        rt = this.oci;
        try {
          info = await this.oci.pullImage(image, req);
        } catch (pe) {
          // The registry cannot be reached (offline): the other way to run it is a catalog entry.
          if (!(pe instanceof NodeError) || !isImageError(pe.cause, 'NETWORK')) throw pe;
          throw new NodeError(pe.code, `${pe.message} (and the image catalog has no entry for it: ${e.message.replace(/^.*?Add it to/, 'to run a local program instead, add it to')})`);
        }
      }
    } else {
      info = await rt.pullImage(image, req);
    }
    this.byImage.set(info, rt);
    return info;
  }

  private needOci(): OciRuntime {
    if (!this.oci) throw new NodeError('RUNTIME_UNAVAILABLE', 'this node has no OCI runtime (the image store could not be opened)');
    return this.oci;
  }

  async startContainer(req: StartRequest, onExit: (exit: ContainerExit) => void): Promise<RunningContainer> {
    const rt = this.byImage.get(req.image) ?? this.catalog;
    const c = await rt.startContainer(req, onExit);
    this.byContainer.set(c, rt);
    return c;
  }

  adoptContainer(sandbox: SandboxRecord, id: string, record: ContainerRecord, onExit: (exit: ContainerExit) => void): RunningContainer | undefined {
    const rt: ContainerRuntime = this.oci?.owns(id) ? this.oci : this.catalog;
    const c = rt.adoptContainer(sandbox, id, record, onExit);
    if (c) this.byContainer.set(c, rt);
    return c;
  }

  private of(c: RunningContainer): ContainerRuntime {
    return this.byContainer.get(c) ?? this.catalog;
  }

  resizeTerminal(c: RunningContainer, width: number, height: number): void {
    this.of(c).resizeTerminal?.(c, width, height);
  }

  stopContainer(c: RunningContainer, deadline: () => number): Promise<void> {
    return this.of(c).stopContainer(c, deadline);
  }

  release(c: RunningContainer): void {
    this.of(c).release(c);
  }

  execArgv(sandbox: SandboxRecord, container: Container, command: string[], running?: RunningContainer, opts?: { tty?: boolean }): string[] {
    return (running ? this.of(running) : this.catalog).execArgv(sandbox, container, command, running, opts);
  }

  containerEnv(c: RunningContainer): Record<string, string> {
    return this.of(c).containerEnv(c);
  }

  stats(c: RunningContainer): ContainerStats | undefined {
    return this.of(c).stats?.(c);
  }
}

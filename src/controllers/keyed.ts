/**
 * The lifecycle every keyed controller shares, written once: a work queue of `namespace/name` keys,
 * nothing queued before `run()` (informers have synced), `run()` queues every object of the primary
 * resource, `stop()` stops taking work, `whenIdle()` for tests and benchmarks. Subclasses add
 * their informer handlers (calling `enqueue`) and `sync(key)`, which re-reads from the caches.
 */
import { objectKey } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import { WorkQueue, type WorkQueueOptions } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';

export abstract class KeyedController implements Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue;
  protected running = false;

  constructor(
    protected readonly ctx: ControllerContext,
    /** The resource whose objects are the queue's keys. */
    private readonly primary: ResourceInfo,
    queueOptions: WorkQueueOptions,
  ) {
    this.queue = new WorkQueue((k) => this.sync(k), queueOptions);
  }

  /** Reconciles one object; throwing retries the key with backoff. */
  abstract sync(key: string): Promise<void>;

  /** Queues `key` once the controller runs (events before that are covered by `run()`). */
  protected enqueue(key: string): void {
    if (this.running) this.queue.add(key);
  }

  run(): void {
    this.running = true;
    for (const o of this.ctx.informers.informer(this.primary).list()) this.queue.add(objectKey(o));
  }

  stop(): void {
    this.running = false;
    this.queue.stop();
  }

  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }
}

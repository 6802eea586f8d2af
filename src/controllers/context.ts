/**
 * What every controller is built from: the client, the shared informers, a clock and an event
 * recorder factory. Controllers register informer handlers in their constructor (handlers ignore
 * events until `run()`), and `run()` is called once all informers have synced, so no controller
 * acts on partial state.
 */
import type { Client } from '../client/client.js';
import { EventRecorder } from './events.js';
import type { SharedInformers } from './informers.js';

export interface ControllerContext {
  client: Client;
  informers: SharedInformers;
  /** Injected clock. */
  now: () => Date;
  /** An EventRecorder whose source.component is `component`. */
  recorder(component: string): EventRecorder;
}

/** A controller's lifecycle as the manager drives it. */
export interface Controller {
  readonly name: string;
  /** Starts processing (informers have synced): queues every object it is responsible for. */
  run(): void;
  /** Stops taking work. */
  stop(): void;
  /** Resolves when the controller's queue is empty (tests, benchmarks). */
  whenIdle(): Promise<void>;
}

/** Builds a context with a recorder cache. */
export function makeContext(client: Client, informers: SharedInformers, now: () => Date = () => new Date()): ControllerContext {
  const recorders = new Map<string, EventRecorder>();
  return {
    client, informers, now,
    recorder(component) {
      let r = recorders.get(component);
      if (!r) recorders.set(component, r = new EventRecorder(client, component, { now }));
      return r;
    },
  };
}

/**
 * What every controller is built from: the client, the shared informers, a clock and an event
 * recorder factory. Controllers register informer handlers in their constructor (handlers ignore
 * events until `run()`), and `run()` is called once all informers have synced, so no controller
 * acts on partial state.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
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
  /** Observer of the controllers' writes (the trace recorder); absent when nothing observes. */
  observer?: ControllerObserver;
}

/** Told about writes after they succeeded (src/inspect's trace recorder). Must not throw or block. */
export interface ControllerObserver {
  /** An EndpointSlice write of Service `service`; `pods` are the Pods its selector matched for that write. */
  sliceWritten?(w: { service: string; op: 'create' | 'update' | 'delete'; before?: EndpointSlice; after?: EndpointSlice; pods: readonly Pod[]; at: number }): void;
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
export function makeContext(client: Client, informers: SharedInformers, now: () => Date = () => new Date(), observer?: ControllerObserver): ControllerContext {
  const recorders = new Map<string, EventRecorder>();
  return {
    client, informers, now, ...(observer ? { observer } : {}),
    recorder(component) {
      let r = recorders.get(component);
      if (!r) recorders.set(component, r = new EventRecorder(client, component, { now }));
      return r;
    },
  };
}

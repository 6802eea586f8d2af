// Types of relay.mjs (a plain module: helper.mjs, which imports it, runs without a build step).
import type { Writable } from 'node:stream';

export const RELAY_READ_BYTES: number;
export interface RelayLink { from?: { resume(): unknown }; to?: Writable }
export function relayReads(link: RelayLink, readBytes?: number): { buffer: () => Buffer; callback: (n: number, b: Buffer) => boolean };
/** An accepted connection's socket that reads with relayReads; `relay.to` is set once its endpoint is connected. */
export function relayingSocket(handle: unknown): import('node:net').Socket & { relay: RelayLink & { from: import('node:net').Socket } };
/** A TCP server whose accepted sockets are relayingSockets (paused) where Node's internals allow, plain paused sockets otherwise. */
export function relayingServer(onConnection: (socket: import('node:net').Socket & { relay?: RelayLink }) => void): import('node:net').Server;

// Types of relay.mjs (a plain module: helper.mjs, which imports it, runs without a build step).
import type { Writable } from 'node:stream';

export const RELAY_READ_BYTES: number;
export interface RelayLink { from?: { resume(): unknown }; to?: Writable }
export function relayReads(link: RelayLink, readBytes?: number): { buffer: () => Buffer; callback: (n: number, b: Buffer) => boolean };

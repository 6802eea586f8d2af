/**
 * The project's own extensions for the front door: discovery + OpenAPI (src/apiserver/discovery,
 * src/apiserver/openapi) and server-side Table printing (src/apiserver/printers). The one file of
 * this folder that imports those components; server.ts itself only knows `ServerExtensions`.
 */
import type { ServerExtensions } from './extensions.js';
import { nonResource } from '../discovery/nonresource.js';
import { findUnknownFields } from '../openapi/unknown.js';
import { toTable } from '../printers/table.js';

/** Options of {@link standardExtensions}. */
export interface StandardExtensionsOptions {
  /** host:port reported in legacy /api serverAddressByClientCIDRs. */
  serverAddress?: string;
}

/** Discovery, OpenAPI and Table printing as the real cluster serves them. */
export function standardExtensions(opts: StandardExtensionsOptions = {}): ServerExtensions {
  return {
    nonResource: (path, query, accept) => nonResource(path, query, accept, opts.serverAddress),
    toTable: (res, objs, o) => toTable(res, objs, o),
    unknownFields: (res, obj) => findUnknownFields(res, obj),
  };
}

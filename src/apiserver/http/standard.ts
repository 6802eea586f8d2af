/**
 * The project's own extensions for the front door: discovery + OpenAPI (src/apiserver/discovery,
 * src/apiserver/openapi) and server-side Table printing (src/apiserver/printers). The one file of
 * this folder that imports those components; server.ts itself only knows `ServerExtensions`.
 */
import { BUILTIN_CATALOG, type ResourceCatalog } from '../catalog.js';
import type { ServerExtensions } from './extensions.js';
import { nonResource } from '../discovery/answers.js';
import { findUnknownFields } from '../openapi/unknown.js';
import { toTable } from '../printers/table.js';

/** Options of {@link standardExtensions}. */
export interface StandardExtensionsOptions {
  /** host:port reported in legacy /api serverAddressByClientCIDRs. */
  serverAddress?: string;
  /** What is served (built-ins and custom resources): the API core's catalog. Default: built-ins only. */
  catalog?: ResourceCatalog;
}

/** Discovery, OpenAPI and Table printing as the real cluster serves them. */
export function standardExtensions(opts: StandardExtensionsOptions = {}): ServerExtensions {
  const catalog = opts.catalog ?? BUILTIN_CATALOG;
  return {
    nonResource: (path, query, accept) => nonResource(path, query, accept, opts.serverAddress, catalog),
    toTable: (res, objs, o) => toTable(res, objs, { ...o, custom: catalog.customOf(res) }),
    unknownFields: (res, obj) => findUnknownFields(res, obj, catalog.customOf(res)),
    resourceFor: (group, version, plural) => catalog.lookup(group, version, plural),
  };
}

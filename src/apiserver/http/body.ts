/**
 * Request bodies: read with a size limit (a huge body is answered 413, never buffered without bound)
 * and decoded from JSON, YAML or Kubernetes protobuf by Content-Type. Decoding failures are 400 BadRequest with the
 * parser's message, the way kube-apiserver reports them.
 */
import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { badRequest, tooLarge, unsupportedMediaType } from '../../api/errors.js';
import { decodeK8sProtobuf } from './protobuf/decode.js';

/** Default body limit: 3 MiB, kube-apiserver's own request size limit. */
export const DEFAULT_BODY_LIMIT = 3 * 1024 * 1024;

/** Reads the whole body; rejects with 413 as soon as more than `limit` bytes arrive. */
export function readBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) { req.resume(); reject(tooLarge(limit)); return; }
    const chunks: Buffer[] = [];
    let size = 0; let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) { failed = true; chunks.length = 0; reject(tooLarge(limit)); return; }
      chunks.push(c);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks)); });
    req.on('error', (e) => { if (!failed) { failed = true; reject(badRequest(`error reading request body: ${e.message}`)); } });
  });
}

/** The media type of a Content-Type header, without parameters, lower-cased. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Decodes a body by Content-Type. JSON types (including the patch types) are parsed as JSON;
 * application/yaml and application/apply-patch+yaml as YAML (one document). An empty Content-Type
 * is treated as JSON (curl, older clients).
 */
export function decodeBody(buf: Buffer, contentType: string | undefined): unknown {
  const mt = mediaType(contentType);
  // client-go typed clients (kubectl create ...) send protobuf; we store JSON.
  if (mt === 'application/vnd.kubernetes.protobuf') return decodeK8sProtobuf(buf);
  const text = buf.toString('utf8');
  if (mt === '' || mt === 'application/json' || mt.endsWith('+json')) {
    if (text.trim() === '') throw badRequest('the request body is empty; expected a JSON object');
    try { return JSON.parse(text); } catch (e) {
      throw badRequest(`the body of the request could not be decoded as JSON: ${(e as Error).message}`);
    }
  }
  if (mt === 'application/yaml' || mt === 'application/apply-patch+yaml' || mt === 'text/yaml' || mt === 'application/x-yaml') {
    let docs: YAML.Document[];
    try { docs = YAML.parseAllDocuments(text) as YAML.Document[]; } catch (e) {
      throw badRequest(`the body of the request could not be decoded as YAML: ${(e as Error).message}`);
    }
    const errs = docs.flatMap((d) => d.errors ?? []);
    if (errs.length) throw badRequest(`the body of the request could not be decoded as YAML: ${errs[0].message}`);
    if (docs.length !== 1) throw badRequest('the body of the request must be exactly one YAML document');
    // Parsing accepts an alias whose anchor is missing (`*a`); resolving it is where it fails.
    try { return docs[0].toJS(); } catch (e) {
      throw badRequest(`the body of the request could not be decoded as YAML: ${(e as Error).message}`);
    }
  }
  throw unsupportedMediaType(mt);
}

/**
 * Query parameters as kube-apiserver reads them (query.ts): the parse of each parameter, table
 * driven, with Kubernetes' error texts; then the same through the real HTTP server in front of the
 * real API core, for what clients actually send (the Python client's `watch=True`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { ApiError } from '../../api/errors.js';
import { R } from '../../api/resources.js';
import { MemoryStorage } from '../../storage/memory.js';
import { createApiCore, type ApiCore } from '../core.js';
import { ensurePki } from '../pki/pki.js';
import { boolParam, deleteOptions, listOptions, parseGoBool, parseGoInt64, patchOptions, prettyParam, watchOptions, writeOptions } from './query.js';
import { startApiServer, type RunningApiServer } from './server.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

/** The ApiError `fn` throws (fails when it throws nothing or something else). */
function thrown(fn: () => unknown): ApiError {
  try { fn(); } catch (e) { if (e instanceof ApiError) return e; throw e; }
  assert.fail('expected an ApiError');
}

describe('booleans: runtime.Convert_Slice_string_To_bool (watch, allowWatchBookmarks, sendInitialEvents, force, orphanDependents)', () => {
  const cases: [string, boolean | undefined][] = [
    ['', undefined], ['watch=true', true], ['watch=True', true], ['watch=TRUE', true], ['watch=1', true], ['watch=t', true],
    ['watch=yes', true], ['watch=', true], ['watch', true], ['watch=false', false], ['watch=False', false], ['watch=FALSE', false],
    ['watch=0', false], ['watch=f', true], ['watch=true&watch=false', true], ['watch=false&watch=true', false],
  ];
  for (const [query, want] of cases) it(`${JSON.stringify(query)} → ${String(want)}`, () => assert.equal(boolParam(q(query), 'watch'), want));
});

describe('pretty and strconv.ParseBool', () => {
  for (const s of ['1', 't', 'T', 'TRUE', 'true', 'True']) it(`${s} is true`, () => assert.equal(parseGoBool(s), true));
  for (const s of ['0', 'f', 'F', 'FALSE', 'false', 'False']) it(`${s} is false`, () => assert.equal(parseGoBool(s), false));
  for (const s of ['yes', 'tRUE', '', ' true']) it(`${JSON.stringify(s)} is not a Go bool`, () => assert.equal(parseGoBool(s), undefined));
  it('pretty=True indents; pretty=yes (not a Go bool) and no pretty do not', () => {
    assert.equal(prettyParam(q('pretty=True')), true);
    assert.equal(prettyParam(q('pretty=yes')), false);
    assert.equal(prettyParam(q('pretty=0')), false);
    assert.equal(prettyParam(q('')), false);
  });
});

describe('integers: strconv.ParseInt(s, 10, 64), 400 with Go\'s message', () => {
  it('parses signed decimals', () => {
    assert.equal(parseGoInt64('42'), 42);
    assert.equal(parseGoInt64('+7'), 7);
    assert.equal(parseGoInt64('-3'), -3);
  });
  for (const bad of ['abc', '1.5', '', ' 1', '0x10', '1e3', '1_000']) {
    it(`${JSON.stringify(bad)} → 400 invalid syntax`, () => {
      const e = thrown(() => parseGoInt64(bad));
      assert.equal(e.code, 400);
      assert.equal(e.message, `strconv.ParseInt: parsing ${JSON.stringify(bad)}: invalid syntax`);
    });
  }
  it('out of int64 range → 400 value out of range', () => {
    assert.equal(thrown(() => parseGoInt64('9223372036854775808')).message, 'strconv.ParseInt: parsing "9223372036854775808": value out of range');
  });
  it('limit, timeoutSeconds and gracePeriodSeconds use it', () => {
    assert.equal(thrown(() => listOptions(q('limit=ten'))).message, 'strconv.ParseInt: parsing "ten": invalid syntax');
    assert.equal(thrown(() => watchOptions(q('timeoutSeconds=1.5'))).message, 'strconv.ParseInt: parsing "1.5": invalid syntax');
    assert.equal(thrown(() => deleteOptions(undefined, q('gracePeriodSeconds=x'))).message, 'strconv.ParseInt: parsing "x": invalid syntax');
    // Kubernetes pages only for limit > 0.
    assert.deepEqual(listOptions(q('limit=-1')), {});
    assert.deepEqual(listOptions(q('limit=0&continue=abc')), { continue: 'abc' });
    assert.equal(listOptions(q('limit=500')).limit, 500);
  });
});

describe('options validation: 422 Invalid with Kubernetes\' wording', () => {
  const cases: [string, () => unknown, string][] = [
    ['dryRun on create', () => writeOptions(q('dryRun=Some'), 'CreateOptions'), 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Some"]: supported values: "All"'],
    ['fieldValidation on update', () => writeOptions(q('fieldValidation=strict'), 'UpdateOptions'), 'UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"'],
    ['fieldManager too long', () => writeOptions(q(`fieldManager=${'m'.repeat(129)}`), 'CreateOptions'), 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes'],
    ['fieldManager with a control character', () => writeOptions(q('fieldManager=a%09b'), 'CreateOptions'), 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\tb": invalid character U+0009 (at position 1)'],
    ['force on a merge patch', () => patchOptions(q('force=true'), 'application/merge-patch+json'), 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch'],
    ['apply without fieldManager', () => patchOptions(q(''), 'application/apply-patch+yaml'), 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'],
    ['propagationPolicy', () => deleteOptions(undefined, q('propagationPolicy=Later')), 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Later": supported values: "Foreground", "Background", "Orphan", "nil"'],
    ['propagationPolicy in the body', () => deleteOptions({ propagationPolicy: 'later' }, q('')), 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "later": supported values: "Foreground", "Background", "Orphan", "nil"'],
    ['orphanDependents with propagationPolicy', () => deleteOptions({ orphanDependents: true, propagationPolicy: 'Orphan' }, q('')), 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set'],
    ['dryRun on delete', () => deleteOptions({ dryRun: ['x'] }, q('')), 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["x"]: supported values: "All"'],
    ['resourceVersionMatch without resourceVersion', () => listOptions(q('resourceVersionMatch=NotOlderThan')), 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'],
    ['sendInitialEvents on a list', () => listOptions(q('sendInitialEvents=true')), 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list'],
    ['sendInitialEvents without NotOlderThan', () => watchOptions(q('sendInitialEvents=true')), 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'],
    ['resourceVersionMatch on a plain watch', () => watchOptions(q('resourceVersionMatch=NotOlderThan')), 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'],
  ];
  for (const [name, fn, message] of cases) {
    it(name, () => {
      const e = thrown(fn);
      assert.equal(e.code, 422);
      assert.equal(e.reason, 'Invalid');
      assert.equal(e.message, message);
    });
  }
  it('a DELETE body field of the wrong type is 400, in the decoder\'s words', () => {
    assert.equal(thrown(() => deleteOptions({ gracePeriodSeconds: '5' }, q(''))).message,
      'DeleteOptions in version "v1" cannot be handled as a DeleteOptions: json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64');
  });
  it('good options pass: the query wins over the body; orphanDependents is a propagation policy', () => {
    assert.deepEqual(deleteOptions({ propagationPolicy: 'Background', gracePeriodSeconds: 30 }, q('propagationPolicy=Foreground&gracePeriodSeconds=0&dryRun=All')),
      { propagationPolicy: 'Foreground', gracePeriodSeconds: 0, dryRun: 'All' });
    assert.deepEqual(deleteOptions(undefined, q('orphanDependents=True')), { propagationPolicy: 'Orphan' });
    assert.deepEqual(writeOptions(q('dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict'), 'CreateOptions'),
      { dryRun: 'All', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' });
    assert.deepEqual(watchOptions(q('watch=True&allowWatchBookmarks=True&sendInitialEvents=True&resourceVersionMatch=NotOlderThan&timeoutSeconds=-5')),
      { resourceVersion: '', allowWatchBookmarks: true, sendInitialEvents: true, timeoutSeconds: 0 });
  });
});

describe('through the real HTTP server', () => {
  let dir: string; let storage: MemoryStorage; let core: ApiCore; let srv: RunningApiServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cip-query-'));
    storage = new MemoryStorage();
    core = await createApiCore({ storage });
    srv = await startApiServer({ client: core.client, pki: await ensurePki(dir), listen: null, unixSocket: join(dir, 'api.sock'), log: () => {} });
    await core.client.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } } as never);
  });
  after(async () => { await srv?.close(); await core?.close(); await storage?.close(); await rm(dir, { recursive: true, force: true }); });

  /** The status, content type and the text received within `ms` (a watch stays open; a list ends). */
  function get(path: string, ms = 300): Promise<{ code: number; type: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: join(dir, 'api.sock'), path }, (res) => {
        let text = '';
        const done = () => { clearTimeout(timer); resolve({ code: res.statusCode!, type: String(res.headers['content-type']), text }); req.destroy(); };
        const timer = setTimeout(done, ms);
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', done);
      });
      req.on('error', (e) => { if (!req.destroyed) reject(e); });
      req.end();
    });
  }

  it('watch=True (the official Python client) is a watch: a stream of events, not a list', async () => {
    const r = await get('/api/v1/namespaces/default/configmaps?watch=True&resourceVersion=0');
    assert.equal(r.code, 200);
    const first = JSON.parse(r.text.split('\n')[0]!) as { type: string; object: { metadata: { name: string } } };
    assert.equal(first.type, 'ADDED');
    assert.equal(first.object.metadata.name, 'one');
  });

  it('watch=false and watch=0 are lists; a named GET with watch=true is a get', async () => {
    for (const v of ['false', 'False', '0']) assert.equal((JSON.parse((await get(`/api/v1/namespaces/default/configmaps?watch=${v}`)).text) as { kind: string }).kind, 'ConfigMapList', v);
    assert.equal((JSON.parse((await get('/api/v1/namespaces/default/configmaps/one?watch=true')).text) as { kind: string }).kind, 'ConfigMap');
  });

  it('the watch-list protocol: initial ADDED events, then the initial-events-end BOOKMARK', async () => {
    const r = await get('/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
    const events = r.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name?: string; annotations?: Record<string, string> } } });
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'BOOKMARK']);
    assert.deepEqual(events[1]!.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
  });

  it('bad parameters answer Statuses: 400 for an integer, 422 for an option', async () => {
    const limit = await get('/api/v1/namespaces/default/configmaps?limit=abc');
    assert.equal(limit.code, 400);
    assert.equal((JSON.parse(limit.text) as { message: string }).message, 'strconv.ParseInt: parsing "abc": invalid syntax');
    const rvm = await get('/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact');
    assert.equal(rvm.code, 422);
  });

  it('pretty=true indents the JSON answer', async () => {
    const r = await get('/api/v1/namespaces/default/configmaps/one?pretty=true');
    assert.match(r.text, /^\{\n {2}"apiVersion": "v1",\n {2}"kind": "ConfigMap",\n/);
    assert.doesNotMatch((await get('/api/v1/namespaces/default/configmaps/one')).text, /\n/);
  });
});

/**
 * What `clusterip flows -f` does, as a separate process for the flows bench: reads the daemon's
 * NDJSON stream over the API socket and renders every flow line (to stdout, which the bench sends
 * to /dev/null). It also appends "<client port> <received at, epoch ms>" for each new flow to a
 * file, so the bench can time NEW event → line.
 *   node --import tsx flows-reader.ts <api socket> <stamp file>
 */
import { openSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import type { FlowUpdate } from '../../src/inspect/flowsmodel.js';
import { renderFlow } from '../../src/inspect/flowsrender.js';

const [socketPath, stampFile] = process.argv.slice(2) as [string, string];
const fd = openSync(stampFile, 'w');
let flows = 0;
let dropped = 0;
const req = request({ socketPath, path: '/debug/clusterip/flows?follow=1' }, (res) => {
  let rest = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    const at = performance.timeOrigin + performance.now();
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    let stamps = '';
    let out = '';
    for (const l of lines) {
      if (!l) continue;
      const u = JSON.parse(l) as FlowUpdate;
      if (u.type === 'stats') { dropped = u.stats.droppedForSlowReader ?? 0; if (flows === 0) process.send?.({ ready: true }); continue; }
      out += renderFlow(u.flow) + '\n';
      if (u.flow.event === 'new') { flows++; stamps += `${u.flow.client.port} ${at}\n`; }
    }
    if (out) process.stdout.write(out);
    if (stamps) writeSync(fd, stamps);
  });
});
req.end();
process.on('message', (m) => { if (m === 'count') process.send?.({ flows, dropped }); });
process.on('disconnect', () => process.exit(0));

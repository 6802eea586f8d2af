/**
 * Child process for the agent kill -9 test: starts a node agent (FakeClient API) with the options in
 * argv[2] (JSON), creates the Pods in argv[3] (JSON), waits until they run, prints one JSON line
 * {pods: [...Pod objects...], pids: {name: containerPid}} and idles until killed.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { R } from '../../api/resources.js';
import { FakeClient } from '../../client/testing/fake.js';
import { startNodeAgent } from '../agent.js';

const opts = JSON.parse(process.argv[2]!) as Omit<Parameters<typeof startNodeAgent>[0], 'client'>;
const pods = JSON.parse(process.argv[3]!) as Pod[];
const client = new FakeClient();
const agent = await startNodeAgent({ ...opts, client });
for (const p of pods) await client.create(R.pods, 'default', p);
const out: Pod[] = [];
for (const p of pods) {
  for (;;) {
    const cur = await client.get<Pod>(R.pods, 'default', p.metadata!.name!);
    if (cur.status?.containerStatuses?.every((c) => c.state?.running)) { out.push(cur); break; }
    await new Promise((r) => setTimeout(r, 50));
  }
}
const pids: Record<string, number | undefined> = {};
for (const p of pods) pids[p.metadata!.name!] = agent.worker('default', p.metadata!.name!)?.container()?.pid;
process.stdout.write(JSON.stringify({ pods: out, pids }) + '\n');
setInterval(() => undefined, 1 << 30);

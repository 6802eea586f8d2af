import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
import { startTestEtcd, uniquePrefix } from '/work/wt/s22-etcd/src/storage/testing/etcd.ts';
import { EtcdStorage } from '/work/wt/s22-etcd/src/storage/etcd/storage.ts';
const etcd = await startTestEtcd();
const s = await EtcdStorage.open({ ...etcd.clientOptions, prefix: uniquePrefix(), requestTimeoutMs: 1500 });
await s.create('/w/a', '1');
const m = etcd.members[0];
await m.crash();
await new Promise((r) => setTimeout(r, 1000));
console.log('unavail', s.unavailable());
m.spawn(); await new Promise((r) => setTimeout(r, 3000)); console.log(require('node:child_process').execSync('ss -ltnp').toString().split('\n').filter((l: string) => l.includes('etcd')).join('\n'), m.pid);
for (let i = 0; i < 4; i++) {
  await new Promise((r) => setTimeout(r, 500));
  let g = 'x'; try { g = JSON.stringify(await s.get('/w/a')); } catch (e) { g = String(e); }
  console.log(i, m.running, s.unavailable(), g.slice(0, 400));
}
console.log(m.recentLog()); console.log(await fetch(etcd.endpoints[0] + '/health').then((r) => r.text()).catch(String));
await s.close(); await etcd.close();

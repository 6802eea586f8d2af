/**
 * The baseline: unbound serving the same records from a static local zone, one thread, loopback
 * only, in the foreground (-d) from a config written into the bench's temp dir. No remote control,
 * no chroot, no privilege drop, no DNSSEC validation, no recursion used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { ZONE } from './fixtures.js';
import { pinned } from './cpu-pinning.js';

export interface Unbound {
  proc: ChildProcess;
  port: number;
  /** Ends unbound (by its pid) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Picks a free UDP port on 127.0.0.1 (bound and released; unbound binds it right after). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Writes the config and starts unbound (on CPU `cpu` only, when given); resolves once it answers
 * a query for the zone's SOA.
 */
export async function startUnbound(dir: string, localData: string[], probe: (port: number) => Promise<boolean>, cpu?: number): Promise<Unbound> {
  const port = await freeUdpPort();
  const conf = join(dir, 'unbound.conf');
  writeFileSync(conf, [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  do-ip6: no',
    '  do-daemonize: no',
    '  chroot: ""',
    '  username: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 0',
    '  num-threads: 1',
    '  module-config: "iterator"',
    '  access-control: 127.0.0.0/8 allow',
    `  local-zone: "${ZONE}." static`,
    ...localData.map((l) => `  ${l}`),
    'remote-control:',
    '  control-enable: no',
    '',
  ].join('\n'));
  const cmd = pinned(cpu, 'unbound', ['-d', '-c', conf]);
  const proc = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => { stderr = (stderr + c).slice(-4000); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`unbound exited ${proc.exitCode}: ${stderr}`);
    if (await probe(port)) return { proc, port, stop };
    if (Date.now() > deadline) { await stop(); throw new Error(`unbound did not answer within 20 s: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
}

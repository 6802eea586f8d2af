/**
 * A TCP connection made from inside one of the cluster's network namespaces, as a byte stream in
 * this process: `busybox nc <host> <port>` started with `ip netns exec <netns>`, its stdin and
 * stdout the stream (the node agent's port-forward works the same way inside a Pod). Used where the
 * daemon must reach an address of the cluster network on someone's behalf — the API server's
 * services/proxy and pods/proxy (from the node namespace that runs the endpoint) and the
 * `--host-nodeports` forwards (from the outside host) — so the packets never leave from the
 * machine's own namespace.
 *
 * The stream ends when the remote side closes; a connection that cannot be made ends it with an
 * error worded like Go's dialer (`dial tcp 10.244.0.5:80: connect: connection refused`), which is
 * what Kubernetes' proxy reports.
 */
import type { Duplex } from 'node:stream';
import { netnsArgv } from '../sys/netns.js';
import { commandStream } from '../sys/commandstream.js';

/** Opens a connection to host:port from inside `netns`. */
export function netnsDial(netns: string, host: string, port: number): Duplex {
  return commandStream(netnsArgv(netns, ['busybox', 'nc', '-w', '30', host, String(port)]), (stderr, code, signal) => {
    const why = /refused/i.test(stderr) ? 'connect: connection refused'
      : /timed out/i.test(stderr) ? 'connect: connection timed out'
        : /unreachable/i.test(stderr) ? 'connect: no route to host'
          : stderr.replace(/^nc: /, '').trim() || (signal ? `killed by ${signal}` : `exit code ${code}`);
    return new Error(`dial tcp ${host}:${port}: ${why}`);
  });
}

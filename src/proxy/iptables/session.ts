/**
 * `IptablesRestoreSession`: one long-lived `iptables-restore --noflush` in the node namespace for
 * incremental syncs (see `../session.ts` for why a long-lived process and how a transaction is
 * acknowledged). iptables-restore commits each table block at its `COMMIT` line and reads on; a
 * refused block makes it print "iptables-restore: line N failed…" and exit, so nothing after it runs.
 *
 * The marker is `*raw` / `-S PREROUTING` / `COMMIT`: it lists one built-in chain of a table the proxy
 * never writes, prints "-P PREROUTING ACCEPT" first (without creating the table in iptables-nft)
 * and commits nothing. iptables-restore runs its input in order, so that line arrives only after
 * the transaction before it was committed. `stdbuf -oL` makes iptables-restore write each line of
 * output at once instead of when its 4 KiB stdio buffer fills.
 *
 * For iptables-nft only (the proxier checks): a legacy iptables-restore holds the machine-wide
 * xtables lock for as long as it runs.
 *
 * Full syncs do not go through the session: iptables-restore's memory grows with the input (~700 MB
 * for a 10k-Service full sync) and a long-lived process would keep it.
 */
import { KernelSession, type SessionSupervision } from '../session.js';
import type { NetnsSpawn } from '../exec.js';

/** iptables-nft keeps a cache of the chains it has read; a fresh process after this much input. */
const DEFAULT_RECYCLE_BYTES = 16 << 20;

export class IptablesRestoreSession extends KernelSession {
  constructor(spawn: NetnsSpawn, opts: { timeoutMs?: number; recycleBytes?: number; supervise?: SessionSupervision } = {}) {
    super(spawn, {
      name: 'iptables-restore',
      argv: ['sh', '-c', 'exec stdbuf -oL iptables-restore --noflush -w 2>&1'],
      markerInput: '*raw\n-S PREROUTING\nCOMMIT\n',
      frame: (text) => (text.trim() ? (text.endsWith('\n') ? text : `${text}\n`) : ''),
      // On success nothing is printed; a refused line is reported, then the process exits.
      failure: (out) => (/\bline \d+ failed\b|Error occurred at line/.test(out) ? out : undefined),
    }, { timeoutMs: opts.timeoutMs, recycleBytes: opts.recycleBytes ?? DEFAULT_RECYCLE_BYTES, supervise: opts.supervise });
  }
}

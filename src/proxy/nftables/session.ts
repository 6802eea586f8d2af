/**
 * `NftSession`: one long-lived `nft -i` in the node namespace (see `../session.ts` for why a
 * long-lived process and how a transaction is acknowledged). One endpoint change is then under a
 * millisecond of nft time, at 1k and at 10k Services (bench/proxy/README.md).
 *
 * In interactive mode nft reads a line and runs it as one buffer — one transaction, all or nothing
 * — so a transaction's commands are joined with ';' on one line. The marker is `describe meta
 * mark`, a command that needs no kernel state and prints one fixed line. nft prints errors with a
 * location prefix ("internal:0:0-0: Error: …", "<cmdline>:1:5-9: Error: …"); an `Error:` before the
 * marker means nft or the kernel rejected the whole transaction.
 */
import { KernelSession, type SessionSupervision } from '../session.js';
import type { NetnsSpawn } from '../exec.js';

/**
 * nft's line editor (libedit) keeps every line it has read in memory, and a proxy sends one line
 * per transaction for as long as it runs; so after this much input the process is replaced.
 */
const DEFAULT_RECYCLE_BYTES = 32 << 20;
/**
 * `nft -i` also saves that history to `$HOME/.nft.history` on exit and reads it back at start:
 * HOME points at a directory that cannot hold it, so nothing is written to root's home.
 */
const NFT_INTERACTIVE = 'HOME=/dev/null exec nft -i 2>&1';

export class NftSession extends KernelSession {
  /** `spawn` starts argv in the node namespace; `timeoutMs` bounds one transaction (default 60 s). */
  constructor(spawn: NetnsSpawn, opts: { timeoutMs?: number; recycleBytes?: number; supervise?: SessionSupervision } = {}) {
    super(spawn, {
      name: 'nft -i',
      argv: ['sh', '-c', NFT_INTERACTIVE],
      markerInput: 'describe meta mark\n',
      frame: (text) => {
        const lines = text.split('\n').filter((l) => l.trim() !== '');
        return lines.length ? `${lines.join(' ; ')}\n` : '';
      },
      failure: (out) => (/\bError:/.test(out) ? out : undefined),
    }, { timeoutMs: opts.timeoutMs, recycleBytes: opts.recycleBytes ?? DEFAULT_RECYCLE_BYTES, supervise: opts.supervise });
  }
}

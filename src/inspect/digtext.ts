/**
 * Reads what `dig +noall +comments +answer q1 T1 q2 T2 ...` prints for several questions in one run
 * (one dig process is ~4× cheaper than a Node.js one): per question, in order, the status and the
 * answer records of the asked type; a question the server never answered is TIMEOUT. Pure.
 */
import type { DnsRcode } from './types.js';

export interface DigAnswer {
  rcode: DnsRcode;
  answers: string[];
  error?: string;
}

/** Parses dig's output for `types.length` questions asked in order. */
export function parseDig(text: string, types: readonly ('A' | 'SRV' | 'CNAME')[]): DigAnswer[] {
  const out: DigAnswer[] = [];
  let cur: DigAnswer | undefined;
  let curType: string | undefined;
  const close = (): void => { if (cur) out.push(cur); cur = undefined; };
  for (const line of text.split('\n')) {
    if (line.startsWith(';; Got answer:')) {
      close();
      curType = types[out.length];
      cur = { rcode: 'ERROR', answers: [] };
      continue;
    }
    const status = /^;; ->>HEADER<<- .* status: (\w+),/.exec(line);
    if (status && cur) {
      const s = status[1]!;
      cur.rcode = s === 'NOERROR' || s === 'NXDOMAIN' || s === 'SERVFAIL' || s === 'REFUSED' ? s : 'ERROR';
      if (cur.rcode === 'ERROR') cur.error = s;
      continue;
    }
    if (/^;; (no servers could be reached|connection timed out)/.test(line)) {
      close();
      out.push({ rcode: 'TIMEOUT', answers: [], error: 'no answer from the DNS server' });
      continue;
    }
    if (!cur || line.startsWith(';') || !line.trim()) continue;
    // name. TTL IN TYPE data...
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && f[2] === 'IN' && f[3] === curType) cur.answers.push(f.slice(4).join(' ').replace(/\.$/, ''));
  }
  close();
  for (const a of out) if (a.rcode === 'NOERROR' && a.answers.length === 0) a.rcode = 'NODATA';
  while (out.length < types.length) out.push({ rcode: 'ERROR', answers: [], error: 'dig printed no answer' });
  return out.slice(0, types.length);
}

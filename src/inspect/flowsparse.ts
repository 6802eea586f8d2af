/**
 * Parsers for the kernel tools' text (pure):
 * - `conntrack -E -o timestamp,extended,id` / `conntrack -L -o extended,id` lines → ConntrackEvent;
 * - `nft monitor trace` lines → the verdict on one traced packet (TraceAssembler).
 *
 * conntrack's line: `[1796591052.757447]\t    [NEW] ipv4 2 tcp 6 120 SYN_SENT src=A dst=VIP sport=P
 * dport=80 [UNREPLIED] src=B dst=A sport=80 dport=P id=3452122831`; with accounting, the DESTROY
 * line (and listings) carry `packets= bytes=` after each tuple. The first src/dst/sport/dport are the
 * original direction (client → what it asked for), the second the reply direction (backend → client).
 */

export interface Tuple { src: string; dst: string; sport: number; dport: number; packets?: number; bytes?: number }

export interface ConntrackEvent {
  /** NEW, DESTROY, UPDATE; '' for a listing line. */
  type: string;
  /** Epoch ms of the tool's timestamp, when printed. */
  at?: number;
  proto: string;
  state?: string;
  orig: Tuple;
  reply: Tuple;
  id?: string;
  assured: boolean;
}

const PROTO_NAMES: Record<string, string> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP', icmp: 'ICMP' };

/**
 * Parses one conntrack line; undefined for anything else (headers, warnings, non-IPv4). Accepts the
 * `-o id` form the collector reads (`[NEW] tcp 6 120 SYN_SENT src=...`) and the `timestamp,extended`
 * and listing forms (`[ts] [NEW] ipv4 2 tcp ...`, `ipv4 2 tcp ...`). Hand-rolled scan instead of
 * regular expressions: it runs once per connection, at up to tens of thousands a second.
 */
export function parseConntrackLine(line: string): ConntrackEvent | undefined {
  const tokens = line.includes('\t') ? line.replace(/\t/g, ' ').split(' ') : line.split(' ');
  let at: number | undefined;
  let type = '';
  let proto: string | undefined;
  let numbers = 0;
  let state: string | undefined;
  const tuples: Tuple[] = [];
  let cur: Tuple | undefined;
  let id: string | undefined;
  let assured = false;
  for (const t of tokens) {
    if (t === '') continue;
    const c0 = t.charCodeAt(0);
    if (c0 === 91 /* [ */) {
      if (t === '[ASSURED]') assured = true;
      else if (t === '[UNREPLIED]') { /* nothing */ } else if (t.charCodeAt(1) >= 48 && t.charCodeAt(1) <= 57) at = Number(t.slice(1, -1)) * 1000;
      else if (!proto) type = t.slice(1, -1);
      continue;
    }
    const eq = t.indexOf('=');
    if (eq < 0) {
      if (!proto) {
        if (t === 'ipv4') continue;
        if (t === 'ipv6' || t === '10') return undefined;
        if (c0 >= 48 && c0 <= 57) continue; // the "2" after ipv4
        proto = t;
        continue;
      }
      if (c0 >= 48 && c0 <= 57) { numbers++; continue; } // protocol number, timeout
      if (!cur && c0 >= 65 && c0 <= 90) state = t;
      continue;
    }
    const k = t.slice(0, eq);
    const v = t.slice(eq + 1);
    switch (k) {
      case 'src': if (cur) tuples.push(cur); cur = { src: v, dst: '', sport: 0, dport: 0 }; break;
      case 'dst': if (cur) cur.dst = v; break;
      case 'sport': if (cur) cur.sport = Number(v); break;
      case 'dport': if (cur) cur.dport = Number(v); break;
      case 'packets': if (cur) cur.packets = Number(v); break;
      case 'bytes': if (cur) cur.bytes = Number(v); break;
      case 'id': id = v; break;
    }
  }
  if (cur) tuples.push(cur);
  if (!proto || numbers === 0 || tuples.length < 2 || !tuples[0]!.dst || !tuples[1]!.dst) return undefined;
  return {
    type, ...(at !== undefined ? { at } : {}), proto: PROTO_NAMES[proto] ?? proto.toUpperCase(),
    ...(state ? { state } : {}), orig: tuples[0]!, reply: tuples[1]!, ...(id ? { id } : {}), assured,
  };
}

/** The kernel's verdict on a traced packet (an `nft monitor trace` sequence that ended in drop). */
export interface TracedRefusal {
  traceId: string;
  proto: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** rejected (a reject statement) or dropped. */
  verdict: 'rejected' | 'dropped';
  /** `table chain` whose rule refused it, and that rule's text. */
  chain: string;
  rule: string;
}

const PACKET_FIELDS = /ip saddr (\S+) ip daddr (\S+).*?(tcp|udp|sctp) sport (\d+) \3 dport (\d+)/;

/**
 * Assembles `nft monitor trace` lines: remembers each trace id's packet, and reports it when a
 * rule or policy drops it. Entries that never end in a drop are forgotten after `ttlMs`.
 */
export class TraceAssembler {
  private readonly packets = new Map<string, { proto: string; src: string; dst: string; sport: number; dport: number; seen: number }>();

  constructor(private readonly ttlMs = 2000) {}

  /** Feeds one line (at time `now`, ms); returns the refusal it completes, if any. */
  line(text: string, now: number): TracedRefusal | undefined {
    const m = /^trace id (\S+) (ip|inet) (\S+) (\S+) (packet|rule|policy|verdict|unknown)\b:? ?(.*)$/.exec(text.trim());
    if (!m) return undefined;
    const [, id, family, name, chain, what, rest] = m;
    // The proxy's table is `ip clusterip`; NetworkPolicy's is `inet clusterip-policy` (src/netpol).
    const table = family === 'ip' ? name : `${family} ${name}`;
    if (what === 'packet') {
      if (!this.packets.has(id!)) {
        const p = PACKET_FIELDS.exec(rest!);
        if (p) this.packets.set(id!, { src: p[1]!, dst: p[2]!, proto: p[3]!.toUpperCase(), sport: Number(p[4]), dport: Number(p[5]), seen: now });
      }
      this.expire(now);
      return undefined;
    }
    if (!/\(verdict drop\)\s*$/.test(rest!) && !(what === 'policy' && /^drop\b/.test(rest!))) return undefined;
    const pkt = this.packets.get(id!);
    this.packets.delete(id!);
    if (!pkt) return undefined;
    const rule = rest!.replace(/\s*\(verdict drop\)\s*$/, '');
    const { seen: _seen, ...fields } = pkt;
    // `nft monitor trace` prints a rule added after it started as `unknown rule handle N` (the
    // proxy's full sync re-creates its chains): the proxy's reject chain still names the verdict.
    const rejected = /\breject\b/.test(rule) || chain === 'reject-chain';
    return { traceId: id!, ...fields, verdict: rejected ? 'rejected' : 'dropped', chain: `${table} ${chain}`, rule };
  }

  private expire(now: number): void {
    if (this.packets.size < 64) return;
    for (const [id, p] of this.packets) if (now - p.seen > this.ttlMs) this.packets.delete(id);
  }
}

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

/** Parses one conntrack line; undefined for anything else (headers, warnings, non-IPv4). */
export function parseConntrackLine(line: string): ConntrackEvent | undefined {
  let i = 0;
  let at: number | undefined;
  let type = '';
  const tokens = line.split(/\s+/).filter(Boolean);
  if (tokens[i]?.startsWith('[') && /^\[\d+\.\d+\]$/.test(tokens[i]!)) { at = Number(tokens[i]!.slice(1, -1)) * 1000; i++; }
  if (tokens[i]?.startsWith('[')) { type = tokens[i]!.slice(1, -1); i++; }
  if (tokens[i] !== 'ipv4') return undefined;
  i += 2; // 'ipv4', '2'
  const protoName = tokens[i++];
  if (!protoName) return undefined;
  i++; // protocol number
  let state: string | undefined;
  const tuples: Tuple[] = [];
  let cur: Partial<Tuple> | undefined;
  let id: string | undefined;
  let assured = false;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    const eq = t.indexOf('=');
    if (eq < 0) {
      if (t === '[ASSURED]') assured = true;
      else if (/^[A-Z_]+$/.test(t) && !cur) state = t;
      continue;
    }
    const k = t.slice(0, eq);
    const v = t.slice(eq + 1);
    if (k === 'src') {
      if (cur) tuples.push(cur as Tuple);
      cur = { src: v };
    } else if (k === 'id') id = v;
    else if (cur && (k === 'dst')) cur.dst = v;
    else if (cur && (k === 'sport' || k === 'dport' || k === 'packets' || k === 'bytes')) cur[k] = Number(v);
  }
  if (cur) tuples.push(cur as Tuple);
  if (tuples.length < 2 || !tuples[0]!.dst || !tuples[1]!.dst) return undefined;
  return {
    type, ...(at !== undefined ? { at } : {}), proto: PROTO_NAMES[protoName] ?? protoName.toUpperCase(),
    ...(state ? { state } : {}), orig: fill(tuples[0]!), reply: fill(tuples[1]!), ...(id ? { id } : {}), assured,
  };
}

function fill(t: Tuple): Tuple {
  return { ...t, sport: t.sport ?? 0, dport: t.dport ?? 0 };
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
    const m = /^trace id (\S+) ip (\S+) (\S+) (packet|rule|policy|verdict)\b:? ?(.*)$/.exec(text.trim());
    if (!m) return undefined;
    const [, id, table, chain, what, rest] = m;
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
    return { traceId: id!, ...fields, verdict: /\breject\b/.test(rule) ? 'rejected' : 'dropped', chain: `${table} ${chain}`, rule };
  }

  private expire(now: number): void {
    if (this.packets.size < 64) return;
    for (const [id, p] of this.packets) if (now - p.seen > this.ttlMs) this.packets.delete(id);
  }
}

/**
 * Reads the text `nft list table` prints (nftables 1.0.x) into sets/maps with their elements and
 * chains with their rules, keeping each element's and rule's text exactly as the kernel tool printed
 * it, so explain can show it verbatim. Pure; no nft JSON (`-j`) because the learner should see the
 * same text `nft list` shows them.
 */
import type { Counter } from './types.js';

export interface NftElement {
  /** The element as printed, e.g. `10.96.0.5 . tcp . 80 . 0 counter packets 4 bytes 240 : 10.244.0.3 . 80`. */
  text: string;
  /** The key part, e.g. `10.96.0.5 . tcp . 80 . 0`. */
  key: string;
  /** The data part of a map element, e.g. `10.244.0.3 . 80` or `goto tcp-endpoints-mod-3`. */
  value?: string;
  counter?: Counter;
  comment?: string;
}

export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  /** Declaration lines (type, flags, timeout, counter, comment). */
  declaration: string[];
  elements: NftElement[];
}

export interface NftChain {
  name: string;
  /** Rule lines as printed (the `type ... hook ...` line of a base chain is not a rule). */
  rules: string[];
}

export interface NftTable {
  sets: Map<string, NftSet>;
  chains: Map<string, NftChain>;
}

const ELEMENT_KEYWORDS = /\s(?:timeout|expires|counter|comment)\s/;

/** Parses one element's text. */
export function parseElement(text: string): NftElement {
  const t = text.trim();
  // The data part follows the last " : " outside quotes (comments are quoted and may hold anything).
  let split = -1;
  let quoted = false;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '"') quoted = !quoted;
    else if (!quoted && t.startsWith(' : ', i)) split = i;
  }
  const head = split < 0 ? t : t.slice(0, split);
  const value = split < 0 ? undefined : t.slice(split + 3).trim();
  const kw = ELEMENT_KEYWORDS.exec(` ${head} `);
  const key = (kw ? ` ${head} `.slice(0, kw.index) : head).trim();
  const el: NftElement = { text: t, key };
  if (value !== undefined) el.value = value;
  const c = /counter packets (\d+) bytes (\d+)/.exec(head);
  if (c) el.counter = { packets: Number(c[1]), bytes: Number(c[2]) };
  const cm = /comment "((?:[^"\\]|\\.)*)"/.exec(head);
  if (cm) el.comment = cm[1];
  return el;
}

/** Splits the inside of `elements = { ... }` at commas outside quotes. */
function splitElements(body: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let depth = 0;
  for (const ch of body) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '{') depth++;
    if (!quoted && ch === '}') depth--;
    if (ch === ',' && !quoted && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out.map((e) => e.replace(/\s+/g, ' '));
}

/** Parses the output of `nft list table ...` / `nft list map ...` / `nft list chain ...` (one or more tables). */
export function parseNftTable(text: string): NftTable {
  const table: NftTable = { sets: new Map(), chains: new Map() };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(set|map|chain) (\S+) \{\s*$/.exec(lines[i]!);
    if (!m) continue;
    const [, kind, name] = m;
    // The block ends at the first line holding only "}" at the block's own indentation.
    const indent = /^\s*/.exec(lines[i]!)![0];
    let j = i + 1;
    const body: string[] = [];
    for (; j < lines.length && lines[j] !== `${indent}}`; j++) body.push(lines[j]!);
    i = j;
    if (kind === 'chain') {
      if (!table.chains.has(name!)) table.chains.set(name!, { name: name!, rules: body.map((l) => l.trim()).filter((l) => l && !/^type \S+ hook /.test(l)) });
      continue;
    }
    // `nft get element` prints one block per command: blocks of the same set or chain are merged.
    const set: NftSet = table.sets.get(name!) ?? { kind: kind as 'set' | 'map', name: name!, declaration: [], elements: [] };
    const fresh = !table.sets.has(name!);
    for (let k = 0; k < body.length; k++) {
      const l = body[k]!.trim();
      if (!l.startsWith('elements = {')) {
        if (l && fresh) set.declaration.push(l);
        continue;
      }
      // The element list runs to the line ending in its closing brace (one check per line: a
      // 10k-element list is 10k lines).
      const parts = [l.slice('elements = {'.length)];
      while (!/\}\s*$/.test(parts[parts.length - 1]!) && k + 1 < body.length) parts.push(body[++k]!.trim());
      for (const e of splitElements(parts.join('\n').replace(/\}\s*$/, ''))) set.elements.push(parseElement(e));
    }
    table.sets.set(name!, set);
  }
  return table;
}

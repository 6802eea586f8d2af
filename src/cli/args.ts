/**
 * Command-line parsing for `clusterip <command> [--flag value | --flag=value | --bool] [-- rest...]`,
 * on Node's own `util.parseArgs` (strict: an unknown flag, a missing value or a value given to a
 * boolean is an error). This file adds what parseArgs lacks: integer flags, defaults shown in
 * `--help`, the arguments after `--` kept apart, and error messages that name the flag and the
 * command (a UsageError, exit code 2).
 */
import { parseArgs as nodeParseArgs } from 'node:util';

/** One flag of a command. */
export interface FlagSpec {
  /** 'string' takes a value; 'boolean' does not; 'number' takes an integer value. */
  type: 'string' | 'boolean' | 'number';
  description: string;
  default?: string | number | boolean;
  /** A one-letter alias (`-h`). */
  short?: string;
}

export interface ParsedArgs {
  flags: Record<string, string | number | boolean | undefined>;
  /** Positional arguments before `--`. */
  positional: string[];
  /** Everything after `--`. */
  rest: string[];
}

/** Bad command-line input. The CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'INVALID_USAGE';
}

/** The closest known flag to a mistyped one (edit distance ≤ 2), for "did you mean". */
function closest(name: string, known: string[]): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
    }
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const dd = dist(name, k);
    if (dd < bestD) { best = k; bestD = dd; }
  }
  return best;
}

/**
 * Parses `argv` (without the command name) against `spec`. Throws UsageError on unknown flags,
 * missing or bad values, and (unless `positionals`) on positional arguments before `--`.
 */
export function parseArgs(argv: string[], spec: Record<string, FlagSpec>, opts: { command?: string; positionals?: boolean } = {}): ParsedArgs {
  const where = opts.command ? ` for 'clusterip ${opts.command}' (see 'clusterip ${opts.command} --help')` : '';
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, s] of Object.entries(spec)) options[name] = { type: s.type === 'boolean' ? 'boolean' : 'string', ...(s.short ? { short: s.short } : {}) };
  let parsed: ReturnType<typeof nodeParseArgs<{ args: string[]; options: typeof options; strict: true; allowPositionals: true; tokens: true }>>;
  try {
    parsed = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const flag = /'(-[^' ]+)/.exec(e.message)?.[1] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const guess = closest(flag.replace(/^-+/, ''), Object.keys(spec));
      throw new UsageError(`unknown flag: ${flag}${where}${guess ? `; did you mean --${guess}?` : ''}`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = flag.replace(/^-+/, '');
      const s = spec[name] ?? Object.entries(spec).find(([, v]) => v.short === name)?.[1];
      throw new UsageError(s?.type === 'boolean' ? `flag ${flag} takes no value` : `flag ${flag} needs a value${/ambiguous/.test(e.message) ? ` (to give a value starting with '-', write ${flag}=<value>)` : ''}`);
    }
    throw new UsageError(e.message);
  }
  const flags: ParsedArgs['flags'] = {};
  for (const [name, s] of Object.entries(spec)) flags[name] = s.default;
  for (const [name, value] of Object.entries(parsed.values)) {
    const s = spec[name]!;
    if (s.type === 'number') {
      const n = Number(value);
      if (typeof value !== 'string' || value.trim() === '' || !Number.isInteger(n)) throw new UsageError(`flag --${name}: ${JSON.stringify(value)} is not an integer`);
      flags[name] = n;
    } else {
      flags[name] = value as string | boolean;
    }
  }
  const terminator = parsed.tokens.find((t) => t.kind === 'option-terminator');
  const rest = terminator ? argv.slice(terminator.index + 1) : [];
  const positional = parsed.tokens.filter((t) => t.kind === 'positional' && (!terminator || t.index < terminator.index))
    .map((t) => (t as { value: string }).value);
  if (!opts.positionals && positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}${where}`);
  return { flags, positional, rest };
}

/** Renders the flag list for `--help`. */
export function flagHelp(spec: Record<string, FlagSpec>): string {
  return Object.entries(spec).map(([name, s]) => {
    const def = s.default === undefined || s.default === false ? '' : ` (default ${JSON.stringify(s.default)})`;
    const alias = s.short ? `-${s.short}, ` : '';
    return `  ${alias}--${name}${s.type === 'boolean' ? '' : ` <${s.type === 'number' ? 'n' : 'value'}>`}\n      ${s.description}${def}`;
  }).join('\n');
}

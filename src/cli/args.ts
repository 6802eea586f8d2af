/**
 * Command-line parsing for `clusterip`: `clusterip <command> [--flag value | --flag=value | --bool] [-- rest...]`.
 * Flags are declared per command so a typo is an error that names the flag, not a silent default.
 */

export interface FlagSpec {
  /** 'string' takes a value; 'boolean' does not; 'number' takes an integer value. */
  type: 'string' | 'boolean' | 'number';
  description: string;
  default?: string | number | boolean;
}

export interface ParsedArgs {
  flags: Record<string, string | number | boolean | undefined>;
  /** Positional arguments before `--`. */
  positional: string[];
  /** Everything after `--`. */
  rest: string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses `argv` (without the command name) against `spec`. Throws UsageError on unknown flags or bad values. */
export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  for (const [name, s] of Object.entries(spec)) flags[name] = s.default;
  const positional: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { rest = argv.slice(i + 1); break; }
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown flag: --${name}`);
    if (s.type === 'boolean') {
      flags[name] = eq < 0 ? true : !['false', '0', 'no'].includes(a.slice(eq + 1));
      continue;
    }
    const value = eq < 0 ? argv[++i] : a.slice(eq + 1);
    if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
    if (s.type === 'number') {
      const n = Number(value);
      if (!Number.isInteger(n)) throw new UsageError(`flag --${name}: ${JSON.stringify(value)} is not an integer`);
      flags[name] = n;
    } else {
      flags[name] = value;
    }
  }
  return { flags, positional, rest };
}

/** Renders the flag list for `--help`. */
export function flagHelp(spec: Record<string, FlagSpec>): string {
  return Object.entries(spec).map(([name, s]) => {
    const def = s.default === undefined || s.default === false ? '' : ` (default ${JSON.stringify(s.default)})`;
    return `  --${name}${s.type === 'boolean' ? '' : ` <${s.type === 'number' ? 'n' : 'value'}>`}\n      ${s.description}${def}`;
  }).join('\n');
}

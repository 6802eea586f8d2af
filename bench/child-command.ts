/**
 * How a bench starts a child process that is measured (proxy, DNS server): as plain JavaScript, the
 * way the product is deployed, because tsx's loader alone adds ~35 MB RSS that is not the child's.
 * The entry is bundled with esbuild (tsx's own dependency) into `outDir`; if that fails the .ts runs
 * through tsx and `log` says why.
 */
import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

/** Node arguments that run `entry` (a .ts file): the bundled .cjs, or tsx on the source. */
export function childCommand(entry: string, outDir: string, log: (msg: string) => void = console.error): string[] {
  const out = join(outDir, basename(entry).replace(/\.ts$/, '.cjs'));
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'esbuild'), [entry, '--bundle', '--platform=node',
      '--format=cjs', '--target=node20', '--log-level=error', `--outfile=${out}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    return [out];
  } catch (err) {
    log(`esbuild bundle failed (${err instanceof Error ? err.message : err}); running the child through tsx (+~35 MB RSS)`);
    return ['--import', 'tsx', entry];
  }
}

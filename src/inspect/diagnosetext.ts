/**
 * The terminal rendering of a diagnosis: one line per finding with its verdict mark, the evidence
 * indented under it, and the fix as commands to run. Pure.
 */
import type { ClusterDiagnosis, Finding, ServiceDiagnosis, Verdict } from './types.js';

const MARK: Record<Verdict, string> = { pass: '✓', info: 'i', warn: '!', fail: '✗', skip: '–' };

function renderFinding(f: Finding, verbose: boolean): string[] {
  const out = [`${MARK[f.verdict]} ${f.check.padEnd(16)} ${f.title}`];
  const showEvidence = verbose || f.verdict === 'fail' || f.verdict === 'warn';
  if (showEvidence) for (const e of f.evidence) out.push(`    ${e}`);
  if (f.fix.length && (f.verdict === 'fail' || f.verdict === 'warn' || f.verdict === 'info')) {
    out.push(f.verdict === 'info' ? '    use:' : '    fix:');
    for (const c of f.fix) for (const l of c.split('\n')) out.push(`      ${l}`);
  }
  return out;
}

/** Renders one Service's diagnosis. `verbose`: evidence of passing checks too. */
export function renderDiagnosis(d: ServiceDiagnosis, opts: { verbose?: boolean } = {}): string {
  const probe = d.probe ? `probe Pod ${d.probe.pod} (${d.probe.ip}) in namespace ${d.probe.namespace}, placed in ${d.probe.placedMs} ms` : 'no probe Pod';
  const lines = [`Service ${d.service.namespace}/${d.service.name} — ${probe}`];
  for (const f of d.findings) lines.push(...renderFinding(f, opts.verbose ?? false));
  const n = (v: Verdict) => d.findings.filter((f) => f.verdict === v).length;
  lines.push(`${d.result === 'pass' ? 'OK' : d.result === 'warn' ? 'WARNINGS' : 'FAILED'}: ${n('pass')} passed, ${n('warn')} warnings, ${n('fail')} failed, ${n('skip')} skipped (${d.durationMs} ms)`);
  return lines.join('\n') + '\n';
}

/** Renders every Service's diagnosis: failing and warning ones in full, passing ones in one line. */
export function renderClusterDiagnosis(c: ClusterDiagnosis, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  for (const d of c.services) {
    if (d.result === 'pass' && !opts.verbose) {
      out.push(`✓ ${d.service.namespace}/${d.service.name}: ${d.findings.filter((f) => f.verdict === 'pass').length} checks passed`);
      continue;
    }
    out.push(renderDiagnosis(d, opts).trimEnd());
  }
  const fail = c.services.filter((d) => d.result === 'fail').length;
  const warn = c.services.filter((d) => d.result === 'warn').length;
  out.push(`${c.services.length} Services: ${c.services.length - fail - warn} OK, ${warn} with warnings, ${fail} failing (${c.durationMs} ms)`);
  return out.join('\n') + '\n';
}

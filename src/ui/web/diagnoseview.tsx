/**
 * `clusterip diagnose` from the page: each check of the checklist with its verdict (a word and a
 * sign, never colour alone), what it observed, and the commands that fix it.
 */

import type { ServiceDiagnosis } from '../../inspect/types.js';

/** `clusterip diagnose -o json` (src/inspect ServiceDiagnosis). */
export type DiagnosisLite = ServiceDiagnosis;

const SIGN = { pass: '✓', info: 'ℹ', warn: '!', fail: '✗', skip: '–' } as const;

export function DiagnoseView({ d }: { d: DiagnosisLite }) {
  return (
    <div class="diagnose" role="region" aria-label="Diagnosis">
      <p class={`verdict ${d.result}`}><strong>{d.result.toUpperCase()}</strong> — {d.findings.filter((f) => f.verdict === 'fail').length} failed, {d.findings.filter((f) => f.verdict === 'warn').length} warnings ({Math.round(d.durationMs)} ms{d.probe ? `, probe Pod ${d.probe.namespace}/${d.probe.pod}` : ''})</p>
      <ol class="findings">
        {d.findings.map((f) => (
          <li class={`finding ${f.verdict}`} data-code={f.code}>
            <span class="sign" aria-hidden="true">{SIGN[f.verdict]}</span> <strong>{f.verdict.toUpperCase()}</strong> <span class="muted">{f.check}</span> {f.title}
            {f.evidence.length > 0 && <ul class="evidence">{f.evidence.map((e) => <li>{e}</li>)}</ul>}
            {f.fix.length > 0 && (
              <div class="fix">fix:
                {f.fix.map((c) => (
                  <div class="fix-line"><code>{c}</code> <button type="button" aria-label={`Copy: ${c}`} onClick={() => void navigator.clipboard?.writeText(c)}>copy</button></div>
                ))}
              </div>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

/**
 * CronJob schedules as Kubernetes reads them (robfig/cron's ParseStandard): five fields, or one of
 * the descriptors @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly, optionally in a
 * time zone (the CronJob's spec.timeZone; the controller's local zone otherwise). The cron
 * expression itself is evaluated by cron-parser.
 */
import { createRequire } from 'node:module';
import type { CronExpressionParser as Parser } from 'cron-parser';

/**
 * cron-parser (with luxon, ~150 kB of code) is required on the first schedule, not imported at
 * start: most clusters never see a CronJob, and every daemon would load, compile and keep it
 * (bench/cluster: start time, idle RSS). It is a CommonJS package, so a synchronous require() keeps
 * these functions synchronous; the bundle leaves it in node_modules (scripts/build.mjs).
 */
const requireFromHere = createRequire(import.meta.url);
let parser: typeof Parser | undefined;
function cronParser(): typeof Parser {
  parser ??= (requireFromHere('cron-parser') as typeof import('cron-parser')).CronExpressionParser;
  return parser;
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** The five-field expression of `schedule`, or an error in robfig/cron's words. */
function expression(schedule: string): { expr: string } | { error: string } {
  const s = schedule.trim();
  if (s.startsWith('@')) {
    const d = DESCRIPTORS[s];
    return d ? { expr: d } : { error: `unrecognized descriptor: ${s}` };
  }
  const fields = s.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return { error: `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]` };
  return { expr: fields.join(' ') };
}

/** A valid IANA time zone name (what Go's time.LoadLocation accepts, roughly). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** undefined when `schedule` (in `timeZone`) is valid, else the parser's message. */
export function checkSchedule(schedule: string, timeZone?: string): string | undefined {
  if (timeZone !== undefined && !isTimeZone(timeZone)) return `unknown time zone ${timeZone}`;
  const e = expression(schedule);
  if ('error' in e) return e.error;
  try {
    cronParser().parse(e.expr, { tz: timeZone ?? 'UTC' }).next();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * The schedule times after `after` up to and including `until` (at most `max`, the earliest first),
 * and whether there were more. Throws on an invalid schedule.
 */
export function scheduleTimes(schedule: string, timeZone: string | undefined, after: Date, until: Date, max: number): { times: Date[]; more: boolean } {
  const e = expression(schedule);
  if ('error' in e) throw new Error(e.error);
  const it = cronParser().parse(e.expr, { currentDate: after, tz: timeZone ?? 'UTC' });
  const times: Date[] = [];
  for (;;) {
    const next = it.next().toDate();
    if (next.getTime() > until.getTime()) return { times, more: false };
    if (times.length >= max) return { times, more: true };
    times.push(next);
  }
}

/** The first schedule time strictly after `after`. Throws on an invalid schedule. */
export function nextScheduleTime(schedule: string, timeZone: string | undefined, after: Date): Date {
  const e = expression(schedule);
  if ('error' in e) throw new Error(e.error);
  return cronParser().parse(e.expr, { currentDate: after, tz: timeZone ?? 'UTC' }).next().toDate();
}

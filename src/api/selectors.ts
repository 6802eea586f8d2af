/**
 * Label and field selectors, with the grammar and error wording of k8s.io/apimachinery/pkg/labels
 * and pkg/fields. Parse errors are 400 BadRequest ApiErrors. The one label matcher of the project:
 * every form below evaluates its requirements with `requirementHolds`.
 *
 *   parseLabelSelector('app=web,tier in (fe,be),!canary').matches(labels)   // the wire form (list/watch)
 *   matchesLabelSelector(deployment.spec.selector, labels)   // metav1.LabelSelector, no parsing, no allocation (controllers' hot loops)
 *   matchesServiceSelector(service.spec.selector, labels)    // a Service's map: empty or absent matches nothing
 *   labelSelectorFromLabelSelector(deployment.spec.selector) // metav1.LabelSelector → validated LabelSelector (Scale's status.selector)
 *   selectorFromSet(service.spec.selector)                   // map → LabelSelector (an empty set matches everything)
 *   requiredPairs(selector)                                  // the k=v pairs a match must carry (label-index lookups)
 *   parseFieldSelector('metadata.name=x,status.phase!=Running').matches((field) => value)
 */
import type { LabelSelector as LabelSelectorSpec } from 'kubernetes-types/meta/v1.js';
import { badRequest } from './errors.js';

export type LabelOperator = 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=';

/** One requirement of a label selector. `=`/`!=` carry exactly one value. */
export interface LabelRequirement {
  key: string;
  op: LabelOperator;
  values: string[];
}

/** A parsed label selector. */
export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /** True when every requirement holds (an empty selector matches everything). */
  matches(labels: Record<string, string> | undefined): boolean;
  /** True when the selector has no requirements. */
  empty(): boolean;
  /** Canonical string form (as kubectl / the API would print it). */
  toString(): string;
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string): void {
  const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
  if (!QUALIFIED_NAME.test(key) || name.length > 63 || (key.includes('/') && key.indexOf('/') > 253)) {
    throw badRequest(`unable to parse requirement: <nil>: Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`);
  }
}

function checkValue(key: string, i: number, value: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw badRequest(`unable to parse requirement: values[${i}][${key}]: Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`);
  }
}

type Labels = Readonly<Record<string, string>> | undefined | null;

/**
 * The one label matcher: whether `labels` satisfy the requirement `key op values` (labels
 * Requirement.Matches). `values` may be a single string for `=` and `!=`, which saves an array per
 * check in the controllers' loops.
 */
export function requirementHolds(labels: Labels, key: string, op: LabelOperator, values: string | readonly string[]): boolean {
  const has = labels !== undefined && labels !== null && Object.prototype.hasOwnProperty.call(labels, key);
  const hit = has && (typeof values === 'string' ? labels![key] === values : values.includes(labels![key]!));
  switch (op) {
    case 'exists': return has;
    case '!exists': return !has;
    case '=': case 'in': return hit;
    case '!=': case 'notin': return !hit;
  }
}

const EXPRESSION_OPS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' };

/**
 * True when `labels` satisfy a metav1.LabelSelector, as metav1.LabelSelectorAsSelector defines it:
 * an absent selector matches nothing, an empty one everything; an unknown operator matches nothing.
 * Reads the selector as it is (no validation, no allocation), for the controllers' hot loops.
 */
export function matchesLabelSelector(sel: LabelSelectorSpec | undefined | null, labels: Labels): boolean {
  if (!sel) return false;
  const ml = sel.matchLabels;
  if (ml) for (const k in ml) if (!requirementHolds(labels, k, '=', ml[k]!)) return false;
  for (const e of sel.matchExpressions ?? []) {
    const op = EXPRESSION_OPS[e.operator];
    if (op === undefined || !requirementHolds(labels, e.key, op, e.values ?? [])) return false;
  }
  return true;
}

/**
 * True when `labels` carry every pair of a Service's selector map. An empty or absent selector
 * matches nothing: a Service without a selector has user-managed endpoints, so Kubernetes' endpoint
 * controllers select no Pods for it (labels.SelectorFromSet alone would match everything).
 */
export function matchesServiceSelector(selector: Readonly<Record<string, string>> | undefined | null, labels: Labels): boolean {
  if (!selector) return false;
  let any = false;
  for (const k in selector) {
    any = true;
    if (!requirementHolds(labels, k, '=', selector[k]!)) return false;
  }
  return any;
}

/** The `k=v` pairs every matching object must carry (to look candidates up in a label index). */
export function requiredPairs(selector: LabelSelectorSpec | Readonly<Record<string, string>> | undefined | null): string[] {
  if (!selector) return [];
  const ml = ('matchLabels' in selector || 'matchExpressions' in selector)
    ? (selector as LabelSelectorSpec).matchLabels ?? {}
    : selector as Record<string, string>;
  return Object.entries(ml).map(([k, v]) => `${k}=${v}`);
}

function requirementString(r: LabelRequirement): string {
  switch (r.op) {
    case 'exists': return r.key;
    case '!exists': return `!${r.key}`;
    case '=': return `${r.key}=${r.values[0]}`;
    case '!=': return `${r.key}!=${r.values[0]}`;
    default: return `${r.key} ${r.op} (${r.values.join(',')})`;
  }
}

/** Builds a selector from requirements (validated). Requirements are sorted by key, like Kubernetes. */
export function newLabelSelector(reqs: LabelRequirement[]): LabelSelector {
  for (const r of reqs) {
    checkKey(r.key);
    r.values.forEach((v, i) => checkValue(r.key, i, v));
  }
  const requirements = [...reqs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements,
    matches: (labels) => requirements.every((r) => requirementHolds(labels, r.key, r.op, r.values)),
    empty: () => requirements.length === 0,
    toString: () => requirements.map(requirementString).join(','),
  };
}

/** A selector that matches nothing (Kubernetes' labels.Nothing()). */
export const NOTHING: LabelSelector = {
  requirements: [], matches: () => false, empty: () => false, toString: () => '<none>',
};

/** Parses the string form (`a=b,c!=d,e in (f,g),!h`). Throws a 400 ApiError on bad syntax. */
export function parseLabelSelector(s: string | undefined): LabelSelector {
  const src = (s ?? '').trim();
  if (src === '') return newLabelSelector([]);
  const reqs: LabelRequirement[] = [];
  let i = 0;
  const ws = () => { while (i < src.length && /\s/.test(src[i])) i++; };
  const fail = (found: string, expected: string) => {
    throw badRequest(`found '${found}', expected: ${expected}`);
  };
  const ident = (): string => {
    ws();
    const m = /^[^\s,=!()]+/.exec(src.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  while (i <= src.length) {
    ws();
    let neg = false;
    if (src[i] === '!') { neg = true; i++; }
    const key = ident();
    if (key === '') fail(src[i] ?? '', 'identifier');
    ws();
    if (neg) {
      reqs.push({ key, op: '!exists', values: [] });
    } else if (i >= src.length || src[i] === ',') {
      reqs.push({ key, op: 'exists', values: [] });
    } else if (src.startsWith('==', i) || src.startsWith('!=', i) || src[i] === '=') {
      const op: LabelOperator = src.startsWith('!=', i) ? '!=' : '=';
      i += src.startsWith('==', i) || src.startsWith('!=', i) ? 2 : 1;
      ws();
      const m = /^[^\s,=!()]*/.exec(src.slice(i))!;
      i += m[0].length;
      reqs.push({ key, op, values: [m[0]] });
    } else {
      const word = /^(notin|in)\b/.exec(src.slice(i));
      if (!word) fail(/^\S+/.exec(src.slice(i))?.[0] ?? '', 'in, notin, =, ==, !=, gt, lt');
      i += word![0].length;
      ws();
      if (src[i] !== '(') fail(/^[^\s,=!()]+/.exec(src.slice(i))?.[0] ?? src[i] ?? '', "'('");
      i++;
      const values: string[] = [];
      for (;;) {
        ws();
        const m = /^[^\s,=!()]*/.exec(src.slice(i))!;
        i += m[0].length;
        values.push(m[0]);
        ws();
        if (src[i] === ',') { i++; continue; }
        if (src[i] === ')') { i++; break; }
        fail(src[i] ?? '', "',' or ')'");
      }
      if (values.length === 1 && values[0] === '') {
        throw badRequest("unable to parse requirement: values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty");
      }
      reqs.push({ key, op: word![1] as LabelOperator, values });
    }
    ws();
    if (i >= src.length) break;
    if (src[i] !== ',') fail(src[i], "',' or 'end of string'");
    i++;
    if (i >= src.length) fail('', 'identifier');
  }
  return newLabelSelector(reqs);
}

/** Selector from a metav1.LabelSelector (matchLabels + matchExpressions), as controllers use it. An absent selector matches nothing. */
export function labelSelectorFromLabelSelector(sel: LabelSelectorSpec | undefined | null): LabelSelector {
  if (!sel) return NOTHING;
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    const op = EXPRESSION_OPS[e.operator];
    if (op === undefined) throw badRequest(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    reqs.push({ key: e.key, op, values: op === 'exists' || op === '!exists' ? [] : e.values ?? [] });
  }
  return newLabelSelector(reqs);
}

/**
 * Selector matching every label in `set` (Service spec.selector). An empty or absent set gives an
 * empty selector, which matches everything — callers handling Services must treat "no selector"
 * specially (Kubernetes: a Service without selector gets no managed endpoints).
 */
export function selectorFromSet(set: Record<string, string> | undefined | null): LabelSelector {
  return newLabelSelector(Object.entries(set ?? {}).map(([key, v]) => ({ key, op: '=' as const, values: [v] })));
}

/** One term of a field selector. */
export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** A parsed field selector. */
export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  /** `get(field)` returns the object's value for a field ('' when absent). */
  matches(get: (field: string) => string | undefined): boolean;
  empty(): boolean;
  toString(): string;
}

/** Parses `a=b,c==d,e!=f` (backslash escapes `\,` `\=` `\\` allowed in values). Throws 400 on bad syntax. */
export function parseFieldSelector(s: string | undefined): FieldSelector {
  const src = (s ?? '').trim();
  const reqs: FieldRequirement[] = [];
  if (src !== '') {
    for (const term of splitUnescaped(src, ',')) {
      const m = /^([^=!]*)(==|!=|=)(.*)$/s.exec(term);
      if (!m || m[1].trim() === '') throw badRequest(`invalid selector: '${src}'; can't understand '${term}'`);
      reqs.push({ field: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3].trim()) });
    }
  }
  return {
    requirements: reqs,
    matches: (get) => reqs.every((r) => ((get(r.field) ?? '') === r.value) === (r.op === '=')),
    empty: () => reqs.length === 0,
    toString: () => reqs.map((r) => `${r.field}${r.op}${r.value}`).join(','),
  };
}

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) { cur += s[i] + s[i + 1]; i++; continue; }
    if (s[i] === sep) { out.push(cur); cur = ''; continue; }
    cur += s[i];
  }
  out.push(cur);
  return out;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

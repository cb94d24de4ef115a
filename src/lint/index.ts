/**
 * `netpol lint`'s core: rules for the classic NetworkPolicy mistakes, one file per rule under rules/,
 * each with a stable id and a doc page (docs/lint/ID.md). Findings are values with the object, the
 * field path and its place in the source. A rule is turned off for a run (`disable`) or for one object
 * by the annotation `netpol.dev/lint-disable: ID,ID` (or `all`) on that object. Pure: no IO.
 */
import type { Cluster } from '../model/index.js';
import { lintContext } from './context.js';
import { RULES } from './rules/index.js';
import type { ObjectText } from './sources.js';
import type { Finding, LintTarget } from './types.js';

export { RULES } from './rules/index.js';
export { sourceReader } from './sources.js';
export type { ObjectText } from './sources.js';
export type { Finding, LintRule, LintSeverity, LintTarget, RawFinding } from './types.js';

export const SUPPRESS_ANNOTATION = 'netpol.dev/lint-disable';

export interface LintOptions {
  /** Rule ids not to run. */
  readonly disable?: readonly string[];
  /**
   * The object's text: where its fields are and its annotations (policies carry theirs in the model;
   * pods and namespaces do not). Without it, positions come from the objects' sources.
   */
  readonly textOf?: (target: LintTarget) => ObjectText | undefined;
}

export interface LintResult {
  readonly findings: readonly Finding[];
  /** Findings left out by an object's suppression annotation. */
  readonly suppressed: number;
}

export function targetName(t: LintTarget): string {
  switch (t.kind) {
    case 'Namespace':
    case 'ClusterNetworkPolicy':
    case 'AdminNetworkPolicy':
    case 'BaselineAdminNetworkPolicy':
      return `${t.kind} ${t.object.name}`;
    default:
      return `${t.kind} ${t.object.namespace}/${t.object.name}`;
  }
}

function annotations(t: LintTarget, opts: LintOptions): Readonly<Record<string, string>> | undefined {
  if (t.kind === 'NetworkPolicy') return t.object.policy.metadata.annotations;
  if (t.kind !== 'Pod' && t.kind !== 'Namespace') return t.object.policy.metadata.annotations;
  return opts.textOf?.(t)?.annotations;
}

/** The rule ids an object's annotation turns off. */
export function suppressedBy(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
}

export function lint(cluster: Cluster, opts: LintOptions = {}): LintResult {
  const ctx = lintContext(cluster);
  const disabled = new Set(opts.disable ?? []);
  const findings: Finding[] = [];
  let suppressed = 0;
  const memo = new Map<object, Set<string>>();
  for (const rule of RULES) {
    if (disabled.has(rule.id)) continue;
    for (const raw of rule.check(ctx)) {
      let off = memo.get(raw.target.object);
      if (!off) memo.set(raw.target.object, (off = suppressedBy(annotations(raw.target, opts)?.[SUPPRESS_ANNOTATION])));
      if (off.has(rule.id) || off.has('all')) {
        suppressed++;
        continue;
      }
      const source = raw.target.object.source;
      const locate = opts.textOf?.(raw.target)?.locate ?? source?.locate;
      const pos = source ? ((raw.path !== undefined ? locate?.(raw.path) : undefined) ?? { line: source.line, column: source.column }) : undefined;
      findings.push({
        rule: rule.id,
        severity: rule.severity,
        message: raw.message,
        object: targetName(raw.target),
        ...(raw.path !== undefined ? { path: raw.path } : {}),
        ...(source ? { file: source.file } : {}),
        ...(pos ? { line: pos.line, column: pos.column } : {}),
      });
    }
  }
  findings.sort((a, b) => cmp(a.file ?? '', b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || cmp(a.rule, b.rule) || cmp(a.object, b.object));
  return { findings, suppressed };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

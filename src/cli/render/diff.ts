/**
 * Renderings of a reachability diff: text for a terminal, JSON for CI, Markdown for a pull-request
 * comment. Text and Markdown group the changed pairs by cause and then by namespace pair and show a
 * few examples of each, so 10,000 changed pairs still read in a screen; JSON holds every pair. Probes
 * with exactly the same changes are shown once. Every name goes through the one escaping step.
 */
import { causeText, probeText, type PairChange, type ProbeDiff, type ReachabilityDiff, labelChanges, type ObjectChanges } from '../../diff/index.js';
import { markdownCell, safeText } from './escape.js';

export interface DiffNames {
  readonly before: string;
  readonly after: string;
}

const GROUPS = 12;
const NS_PAIRS = 5;
const EXAMPLES = 3;
const MD_ROWS = 50;

export function hasChanges(d: ReachabilityDiff): boolean {
  return d.probes.some((p) => p.added.length + p.removed.length > 0) || d.changes.podsAdded.length + d.changes.podsRemoved.length > 0;
}

interface Group {
  readonly cause: string;
  readonly pairs: PairChange[];
}

function groupByCause(pairs: readonly PairChange[]): Group[] {
  const m = new Map<string, PairChange[]>();
  for (const p of pairs) {
    const k = p.causes.map(causeText).join('; ');
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(p);
  }
  return [...m].map(([cause, ps]) => ({ cause, pairs: ps })).sort((a, b) => b.pairs.length - a.pairs.length || (a.cause < b.cause ? -1 : 1));
}

function nsOf(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

function groupByNamespaces(pairs: readonly PairChange[]): [string, PairChange[]][] {
  const m = new Map<string, PairChange[]>();
  for (const p of pairs) {
    const k = `${nsOf(p.from)} -> ${nsOf(p.to)}`;
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(p);
  }
  return [...m].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
}

/** Probes with the same changes, shown together. */
function mergeProbes(probes: readonly ProbeDiff[]): { titles: string[]; diff: ProbeDiff }[] {
  const out = new Map<string, { titles: string[]; diff: ProbeDiff }>();
  for (const p of probes) {
    const sig = [p.added, p.removed].map((l) => l.map((x) => `${x.from}>${x.to}:${x.causes.map(causeText).join(';')}`).join('|')).join('#');
    const e = out.get(sig);
    if (e) e.titles.push(probeText(p));
    else out.set(sig, { titles: [probeText(p)], diff: p });
  }
  return [...out.values()];
}

function count(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}

function shortPair(p: PairChange): string {
  const [f, t] = [p.from.slice(p.from.indexOf('/') + 1), p.to.slice(p.to.indexOf('/') + 1)];
  return safeText(`${f} -> ${t}`);
}

export function objectChangeLines(c: ObjectChanges): string[] {
  const out: string[] = [];
  for (const p of c.policies) out.push(`policy ${p.policy} ${p.change}${p.parts.length ? ` (${p.parts.join(', ')})` : ''}`);
  for (const p of c.clusterPolicies) out.push(`${p.policy} ${p.change}${p.parts.length ? ` (${p.parts.join(', ')})` : ''}`);
  if (c.nodes) out.push('nodes changed (names, labels or addresses)');
  for (const p of c.pods) out.push(`pod ${p.pod}: ${p.aspects.map((a) => (a === 'labels' ? `labels ${labelChanges(p.before.labels, p.after.labels).join(', ')}` : a)).join('; ')}`);
  for (const n of c.namespaces) out.push(`namespace ${n.namespace}: labels ${labelChanges(n.before, n.after).join(', ')}`);
  return out;
}

export function renderDiffText(d: ReachabilityDiff, names: DiffNames): string {
  const lines: string[] = [`netpol diff ${safeText(names.before)} -> ${safeText(names.after)}`];
  const objects = objectChangeLines(d.changes);
  if (objects.length) lines.push('', 'changed objects:', ...objects.map((l) => `  ${safeText(l)}`));
  for (const { titles, diff } of mergeProbes(d.probes)) {
    lines.push(
      '',
      `${titles.join(', ')}: ${diff.added.length + diff.removed.length === 0 ? 'unchanged' : `${count(diff.added.length, 'pair')} newly allowed, ${count(diff.removed.length, 'pair')} newly denied`}`,
    );
    for (const [sign, pairs] of [
      ['+', diff.added],
      ['-', diff.removed],
    ] as const) {
      const groups = groupByCause(pairs);
      for (const g of groups.slice(0, GROUPS)) {
        lines.push(`  ${sign} ${count(g.pairs.length, 'pair')} ${sign === '+' ? 'allowed' : 'denied'} because ${safeText(g.cause)}`);
        const byNs = groupByNamespaces(g.pairs);
        for (const [ns, ps] of byNs.slice(0, NS_PAIRS)) {
          const more = ps.length > EXAMPLES ? `, ... ${ps.length - EXAMPLES} more` : '';
          lines.push(`      ${safeText(ns)}: ${ps.slice(0, EXAMPLES).map(shortPair).join(', ')}${more}`);
        }
        if (byNs.length > NS_PAIRS) lines.push(`      ... ${count(byNs.length - NS_PAIRS, 'more namespace pair')}`);
      }
      if (groups.length > GROUPS) lines.push(`  ${sign} ... ${count(groups.length - GROUPS, 'more cause')} (-o json lists every pair)`);
    }
  }
  if (d.changes.podsRemoved.length) lines.push('', `pods only in ${safeText(names.before)} (not compared): ${listed(d.changes.podsRemoved)}`);
  if (d.changes.podsAdded.length) lines.push('', `pods only in ${safeText(names.after)} (not compared): ${listed(d.changes.podsAdded)}`);
  lines.push('', summary(d));
  return `${lines.join('\n')}\n`;
}

function listed(keys: readonly string[]): string {
  const shown = keys.slice(0, 10).map(safeText).join(', ');
  return keys.length > 10 ? `${shown}, ... ${keys.length - 10} more` : shown;
}

function summary(d: ReachabilityDiff): string {
  const added = d.probes.reduce((n, p) => n + p.added.length, 0);
  const removed = d.probes.reduce((n, p) => n + p.removed.length, 0);
  if (!hasChanges(d)) return `reachability unchanged (${count(d.probes.length, 'probe')})`;
  return `reachability changed: ${added.toLocaleString('en-US')} newly allowed and ${removed.toLocaleString('en-US')} newly denied over ${count(d.probes.length, 'probe')} (a pair counts once per probe); ${d.changes.podsAdded.length} pods added, ${d.changes.podsRemoved.length} removed`;
}

export function renderDiffJson(d: ReachabilityDiff, names: DiffNames): string {
  const pair = (p: PairChange) => ({ from: p.from, to: p.to, causes: p.causes.map((c) => ({ ...c, text: causeText(c) })) });
  return `${JSON.stringify({
    before: names.before,
    after: names.after,
    changed: hasChanges(d),
    probes: d.probes.map((p) => ({ port: p.port, protocol: p.protocol, added: p.added.map(pair), removed: p.removed.map(pair) })),
    podsOnlyBefore: d.changes.podsRemoved,
    podsOnlyAfter: d.changes.podsAdded,
    changes: {
      policies: d.changes.policies.map((p) => ({ policy: p.policy, change: p.change, parts: p.parts })),
      clusterPolicies: d.changes.clusterPolicies.map((p) => ({ policy: p.policy, change: p.change, parts: p.parts })),
      nodes: d.changes.nodes,
      pods: d.changes.pods.map((p) => ({ pod: p.pod, aspects: p.aspects, labels: labelChanges(p.before.labels, p.after.labels) })),
      namespaces: d.changes.namespaces.map((n) => ({ namespace: n.namespace, labels: labelChanges(n.before, n.after) })),
    },
  })}\n`;
}

export function renderDiffMarkdown(d: ReachabilityDiff, names: DiffNames): string {
  const md = markdownCell;
  const out: string[] = [`### netpol diff: ${md(names.before)} → ${md(names.after)}`, '', `**${md(summary(d))}**`, ''];
  out.push('| probe | newly allowed | newly denied |', '| --- | ---: | ---: |');
  for (const p of d.probes) out.push(`| ${md(probeText(p))} | ${p.added.length} | ${p.removed.length} |`);
  const objects = objectChangeLines(d.changes);
  if (objects.length) out.push('', '**Changed objects**', '', ...objects.map((l) => `- ${md(l)}`));
  for (const { titles, diff } of mergeProbes(d.probes)) {
    if (diff.added.length + diff.removed.length === 0) continue;
    out.push('', `#### ${md(titles.join(', '))}`);
    for (const [word, pairs] of [
      ['allowed', diff.added],
      ['denied', diff.removed],
    ] as const) {
      for (const g of groupByCause(pairs)) {
        out.push('', `<details><summary>${g.pairs.length} newly ${word}: ${md(g.cause)}</summary>`, '', '| from | to |', '| --- | --- |');
        for (const p of g.pairs.slice(0, MD_ROWS)) out.push(`| ${md(p.from)} | ${md(p.to)} |`);
        if (g.pairs.length > MD_ROWS) out.push(`| … ${g.pairs.length - MD_ROWS} more | |`);
        out.push('', '</details>');
      }
    }
  }
  const apart = [...d.changes.podsRemoved.map((k) => `- only in ${md(names.before)}: ${md(k)}`), ...d.changes.podsAdded.map((k) => `- only in ${md(names.after)}: ${md(k)}`)];
  if (apart.length) out.push('', '**Pods on one side only** (not compared)', '', ...apart.slice(0, MD_ROWS), ...(apart.length > MD_ROWS ? [`- … ${apart.length - MD_ROWS} more`] : []));
  return `${out.join('\n')}\n`;
}

/**
 * The ruleset as text for `nft -f`: a full, atomic replacement of the table, or an incremental update.
 *
 * Design choice: both outputs are one `nft -f` file, which nft commits as a single kernel transaction, so
 * packets see the old ruleset or the new one and never a state in between (in particular never a flushed,
 * allow-all chain). The full form creates the table if it is missing, deletes it and declares it again,
 * touching no other table. The incremental form changes only what differs, in an order nft accepts:
 * new sets and chains first, then set elements, then chain bodies, then dispatch-map elements, and only
 * then deletions of chains and sets nothing refers to any more. Rendering is deterministic: the IR is
 * sorted by the compiler and printed in order.
 */
import { compareElements, elementDelta } from './elements.js';
import type { Chain, Match, NamedSet, Rule, Ruleset, SetKeyType, Verdict, VerdictMap } from './ir.js';

const ELEMENTS_PER_LINE = 8;

function family(f: 4 | 6): string {
  return f === 4 ? 'ip' : 'ip6';
}

function renderMatch(m: Match): string | undefined {
  switch (m.kind) {
    case 'ct-state':
      return `ct state ${m.states.join(',')}`;
    case 'address':
      return `${family(m.family)} ${m.field} @${m.set}`;
    case 'l4proto':
      return `meta l4proto ${m.protocol}`;
    case 'dport': {
      const parts = m.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
      return parts.length === 1 ? `th dport ${parts[0]}` : `th dport { ${parts.join(', ')} }`;
    }
    case 'daddr-dport':
      return `${family(m.family)} daddr . th dport @${m.set}`;
    case 'icmpv6-type':
      return m.types.length === 1 ? `icmpv6 type ${m.types[0]}` : `icmpv6 type { ${m.types.join(', ')} }`;
    case 'unknown':
      return undefined;
  }
}

function renderVerdict(v: Verdict): string {
  switch (v.kind) {
    case 'accept':
    case 'drop':
    case 'return':
      return v.kind;
    case 'jump':
      return `jump ${v.chain}`;
    case 'goto':
      return `goto ${v.chain}`;
    case 'reject':
      return v.with === 'tcp-reset' ? 'reject with tcp reset' : 'reject with icmpx admin-prohibited';
    case 'vmap':
      return `${family(v.family)} ${v.field} vmap @${v.map}`;
  }
}

/** One rule as nft syntax (the part after `add rule inet TABLE CHAIN`); undefined if it holds an unknown match. */
export function renderRule(r: Rule): string | undefined {
  const parts: string[] = [];
  for (const m of r.matches) {
    const t = renderMatch(m);
    if (t === undefined) return undefined;
    parts.push(t);
  }
  if (r.counter) parts.push('counter');
  if (r.limit) parts.push(`limit rate ${r.limit.rate}/${r.limit.per} burst ${r.limit.burst} packets`);
  if (r.log) parts.push(`log prefix "${r.log.prefix}"`);
  if (r.verdict) parts.push(renderVerdict(r.verdict));
  if (r.comment !== undefined) parts.push(`comment "${r.comment}"`);
  return parts.join(' ');
}

/** Identity of a rule for comparisons: its text, or something no other rule equals when it cannot be printed. */
function ruleKey(r: Rule): string {
  return renderRule(r) ?? `\u0000unknown ${JSON.stringify(r)}`;
}

function chunkElements(elements: readonly string[], indent: string): string {
  const lines: string[] = [];
  for (let i = 0; i < elements.length; i += ELEMENTS_PER_LINE) lines.push(elements.slice(i, i + ELEMENTS_PER_LINE).join(', '));
  return lines.join(`,\n${indent}`);
}

function mapElementsText(elements: VerdictMap['elements']): string[] {
  return elements.map(([k, c]) => `${k} : jump ${c}`);
}

function renderSetBlock(s: NamedSet): string {
  const lines = [`\tset ${s.name} {`, `\t\ttype ${s.type}`];
  if (s.interval) lines.push('\t\tflags interval');
  if (s.comment !== undefined) lines.push(`\t\tcomment "${s.comment}"`);
  if (s.elements.length > 0) lines.push(`\t\telements = { ${chunkElements(s.elements, '\t\t\t     ')} }`);
  lines.push('\t}');
  return lines.join('\n');
}

function renderMapBlock(m: VerdictMap): string {
  const lines = [`\tmap ${m.name} {`, `\t\ttype ${m.type} : verdict`];
  if (m.elements.length > 0) lines.push(`\t\telements = { ${chunkElements(mapElementsText(m.elements), '\t\t\t     ')} }`);
  lines.push('\t}');
  return lines.join('\n');
}

function baseSpecText(c: Chain): string | undefined {
  if (!c.base) return undefined;
  const prio = c.base.priority === 0 ? 'filter' : `${c.base.priority}`;
  return `type ${c.base.type} hook ${c.base.hook} priority ${prio}; policy ${c.base.policy};`;
}

function renderChainBlock(c: Chain): string {
  const lines = [`\tchain ${c.name} {`];
  const spec = baseSpecText(c);
  if (spec) lines.push(`\t\t${spec}`);
  if (c.comment !== undefined) lines.push(`\t\tcomment "${c.comment}"`);
  for (const r of c.rules) {
    const t = renderRule(r);
    lines.push(t === undefined ? '\t\t# (a rule netpol does not model was left out)' : `\t\t${t}`);
  }
  lines.push('\t}');
  return lines.join('\n');
}

function tableRef(rs: Ruleset): string {
  return `${rs.family} ${rs.table}`;
}

/**
 * The whole table as one atomic `nft -f` transaction: create the table if missing (so the delete cannot
 * fail), delete it, declare it again. Other tables are not touched.
 */
export function renderRuleset(rs: Ruleset): string {
  const t = tableRef(rs);
  const blocks: string[] = [];
  if (rs.comment !== undefined) blocks.push(`\tcomment "${rs.comment}"`);
  for (const s of rs.sets) blocks.push(renderSetBlock(s));
  for (const m of rs.maps) blocks.push(renderMapBlock(m));
  for (const c of rs.chains) blocks.push(renderChainBlock(c));
  return `table ${t} {}\ndelete table ${t}\ntable ${t} {\n${blocks.join('\n\n')}\n}\n`;
}

function sameSetDefinition(a: NamedSet, b: NamedSet): boolean {
  return a.type === b.type && a.interval === b.interval && (a.comment ?? '') === (b.comment ?? '');
}

function sameBase(a: Chain, b: Chain): boolean {
  return baseSpecText(a) === baseSpecText(b);
}

function sameRules(a: Chain, b: Chain): boolean {
  // The compiler hands out an unchanged chain's rules again (NodeCompiler).
  if (a.rules === b.rules) return true;
  if (a.rules.length !== b.rules.length) return false;
  return a.rules.every((r, i) => ruleKey(r) === ruleKey(b.rules[i] as Rule));
}

function setsReferenced(c: Chain): Set<string> {
  const out = new Set<string>();
  for (const r of c.rules) {
    for (const m of r.matches) if (m.kind === 'address' || m.kind === 'daddr-dport') out.add(m.set);
    if (r.verdict?.kind === 'vmap') out.add(r.verdict.map);
  }
  return out;
}

/**
 * Elements only in `old` and elements only in `next`. Arrays the compiler did not change are the same
 * array, and for arrays it edited it recorded the edits (elements.ts): neither needs a comparison.
 * Otherwise both are sorted the same way (the compiler's order, which is `sortElements`' order, the
 * reader's), so the common head and tail are skipped and the rest is merged in one pass.
 */
function elementChanges(old: readonly string[], next: readonly string[], type: SetKeyType): { removed: string[]; added: string[] } {
  if (old === next) return { removed: [], added: [] };
  const recorded = elementDelta(old, next);
  if (recorded) return { removed: [...recorded.removed], added: [...recorded.added] };
  let start = 0;
  const max = Math.min(old.length, next.length);
  while (start < max && old[start] === next[start]) start++;
  let endOld = old.length;
  let endNext = next.length;
  while (endOld > start && endNext > start && old[endOld - 1] === next[endNext - 1]) {
    endOld--;
    endNext--;
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = start;
  let j = start;
  while (i < endOld && j < endNext) {
    const a = old[i] as string;
    const b = next[j] as string;
    if (a === b) {
      i++;
      j++;
      continue;
    }
    const c = compareElements(a, b, type);
    if (c < 0) {
      removed.push(a);
      i++;
    } else if (c > 0) {
      added.push(b);
      j++;
    } else {
      removed.push(a);
      added.push(b);
      i++;
      j++;
    }
  }
  while (i < endOld) removed.push(old[i++] as string);
  while (j < endNext) added.push(next[j++] as string);
  return { removed, added };
}

/** Whether a set read back from a kernel holds elements the JSON reader could not read (`?...`). */
function unreadable(rs: Ruleset, s: NamedSet): boolean {
  // A compiled ruleset (it has notes) never holds such elements.
  return rs.notes === undefined && s.elements.some((e) => e.startsWith('?'));
}

function setDeclaration(t: string, s: NamedSet): string[] {
  const flags = s.interval ? ' flags interval;' : '';
  const comment = s.comment !== undefined ? ` comment "${s.comment}";` : '';
  const out = [`add set ${t} ${s.name} { type ${s.type};${flags}${comment} }`];
  if (s.elements.length > 0) out.push(`add element ${t} ${s.name} { ${chunkElements(s.elements, '\t')} }`);
  return out;
}

function chainDeclaration(t: string, c: Chain): string {
  return c.comment !== undefined ? `add chain ${t} ${c.name} { comment "${c.comment}"; }` : `add chain ${t} ${c.name}`;
}

function ruleLines(t: string, c: Chain): string[] {
  return c.rules.map((r) => {
    const text = renderRule(r);
    return text === undefined ? `# (a rule netpol does not model was left out of ${c.name})` : `add rule ${t} ${c.name} ${text}`;
  });
}

/**
 * An incremental update from `old` (what the kernel holds) to `next`, as one `nft -f` transaction; the
 * empty string when nothing differs. When the table itself, a base chain's hook or a dispatch map's type
 * differs, the update is the full replacement (still one transaction).
 */
/**
 * What turns `old` into `next`, as typed values: the whole table replaced (`full`), or the parts an
 * incremental update touches. `renderChange` writes it for `nft -f`; consumers decide from it (the agent:
 * whether a change can revoke a connection) without reading the text.
 */
export type RulesetChange =
  | { readonly full: true }
  | {
      readonly full: false;
      /** New sets (with their elements) and new chains (declared empty, filled in `filledChains`). */
      readonly addedSets: readonly NamedSet[];
      readonly addedChains: readonly Chain[];
      /** Element changes of sets that stay. */
      readonly setElements: readonly { readonly set: string; readonly removed: readonly string[]; readonly added: readonly string[] }[];
      /** Chains emptied: changed ones (filled again) and removed ones (deleted after). */
      readonly flushedChains: readonly Chain[];
      /** Sets declared again (type, flags or comment changed, or unreadable elements). */
      readonly recreatedSets: readonly NamedSet[];
      /** Changed and new chains, with their rules. */
      readonly filledChains: readonly Chain[];
      /** Dispatch-map changes: keys removed, and keys (re)pointed at a chain. */
      readonly mapElements: readonly { readonly map: string; readonly removed: readonly string[]; readonly added: VerdictMap['elements'] }[];
      readonly removedChains: readonly Chain[];
      readonly removedSets: readonly NamedSet[];
    };

/** The text for `nft -f` that turns `old` into `next` (empty when they are the same). */
export function renderDiff(old: Ruleset, next: Ruleset): string {
  return renderChange(next, diffRuleset(old, next));
}

export function diffRuleset(old: Ruleset, next: Ruleset): RulesetChange {
  const full = { full: true } as const;
  if (old.family !== next.family || old.table !== next.table) return full;
  const oldChains = new Map(old.chains.map((c) => [c.name, c]));
  const nextChains = new Map(next.chains.map((c) => [c.name, c]));
  const oldSets = new Map(old.sets.map((s) => [s.name, s]));
  const nextSets = new Map(next.sets.map((s) => [s.name, s]));
  const oldMaps = new Map(old.maps.map((m) => [m.name, m]));

  // Structural changes the incremental form does not handle: replace the table instead.
  for (const c of [...old.chains, ...next.chains]) {
    const o = oldChains.get(c.name);
    const n = nextChains.get(c.name);
    if ((o?.base || n?.base) && (!o || !n || !sameBase(o, n))) return full;
  }
  if (old.maps.length !== next.maps.length) return full;
  for (const m of next.maps) {
    const o = oldMaps.get(m.name);
    // A key the JSON reader could not read (`?...`) cannot be deleted by name.
    if (!o || o.type !== m.type || o.elements.some(([k]) => k.startsWith('?'))) return full;
  }
  for (const s of next.sets) if (oldMaps.has(s.name)) return full;

  const addedSets = next.sets.filter((s) => !oldSets.has(s.name));
  // Sets whose definition changed, or holding elements the JSON reader could not read (`?...`), which
  // cannot be deleted by name: declared again.
  const recreatedSets = next.sets.filter((s) => {
    const o = oldSets.get(s.name);
    return o !== undefined && (!sameSetDefinition(o, s) || unreadable(old, o));
  });
  const recreatedNames = new Set(recreatedSets.map((s) => s.name));
  const keptSets = next.sets.filter((s) => oldSets.has(s.name) && !recreatedNames.has(s.name));
  const removedSets = old.sets.filter((s) => !nextSets.has(s.name));
  const addedChains = next.chains.filter((c) => !oldChains.has(c.name));
  const removedChains = old.chains.filter((c) => !nextChains.has(c.name));
  const dirtyChains = next.chains.filter((c) => {
    const o = oldChains.get(c.name);
    if (!o) return false;
    if (!sameRules(o, c)) return true;
    for (const s of setsReferenced(o)) if (recreatedNames.has(s)) return true;
    return false;
  });
  const setElements = keptSets
    .map((s) => ({ set: s.name, ...elementChanges((oldSets.get(s.name) as NamedSet).elements, s.elements, s.type) }))
    .filter((e) => e.removed.length > 0 || e.added.length > 0);
  const mapElements = next.maps
    .map((m) => {
      const o = oldMaps.get(m.name) as VerdictMap;
      const before = new Map(o.elements.map(([k, c]) => [k, c]));
      const after = new Map(m.elements.map(([k, c]) => [k, c]));
      return { map: m.name, removed: o.elements.filter(([k, c]) => after.get(k) !== c).map(([k]) => k), added: m.elements.filter(([k, c]) => before.get(k) !== c) };
    })
    .filter((e) => e.removed.length > 0 || e.added.length > 0);
  return {
    full: false,
    addedSets,
    addedChains,
    setElements,
    flushedChains: [...dirtyChains, ...removedChains],
    recreatedSets,
    filledChains: [...dirtyChains, ...addedChains],
    mapElements,
    removedChains,
    removedSets,
  };
}

/** `change` (from `diffRuleset(old, next)`) as one `nft -f` file, in an order nft accepts. */
export function renderChange(next: Ruleset, change: RulesetChange): string {
  if (change.full) return renderRuleset(next);
  const t = tableRef(next);
  const out: string[] = [];
  // 1. New sets (with their elements) and new, still empty, chains.
  for (const s of change.addedSets) out.push(...setDeclaration(t, s));
  for (const c of change.addedChains) out.push(chainDeclaration(t, c));
  // 2. Elements of sets that stay: removals first, so an interval never overlaps one being replaced.
  for (const { set, removed, added } of change.setElements) {
    if (removed.length > 0) out.push(`delete element ${t} ${set} { ${chunkElements(removed, '\t')} }`);
    if (added.length > 0) out.push(`add element ${t} ${set} { ${chunkElements(added, '\t')} }`);
  }
  // 3. Empty the chains that change or go away (they may refer to sets about to be replaced or deleted).
  for (const c of change.flushedChains) out.push(`flush chain ${t} ${c.name}`);
  // 4. Sets whose type, flags or comment changed: nothing refers to them now; declare them again.
  for (const s of change.recreatedSets) {
    out.push(`delete set ${t} ${s.name}`);
    out.push(...setDeclaration(t, s));
  }
  // 5. Fill changed and new chains.
  for (const c of change.filledChains) out.push(...ruleLines(t, c));
  // 6. Dispatch maps: a pod's address now jumps to its new chain, or no longer jumps at all.
  for (const { map, removed, added } of change.mapElements) {
    if (removed.length > 0) out.push(`delete element ${t} ${map} { ${chunkElements(removed, '\t')} }`);
    if (added.length > 0) out.push(`add element ${t} ${map} { ${chunkElements(mapElementsText(added), '\t')} }`);
  }
  // 7. Chains and sets nothing refers to any more.
  for (const c of change.removedChains) out.push(`delete chain ${t} ${c.name}`);
  for (const s of change.removedSets) out.push(`delete set ${t} ${s.name}`);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

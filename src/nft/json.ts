/**
 * Reads what `nft -j list table inet netpol` prints back into the IR, so a restarted agent can diff
 * against what the kernel holds instead of starting from empty.
 *
 * Design choice: the reader knows exactly the expression shapes the renderer produces, as nft lists them
 * back (nft folds `meta l4proto tcp th dport 80` into `tcp dport 80` and drops implied protocol matches);
 * it rebuilds the same IR the compiler made, so an unchanged ruleset diffs to nothing. Whatever else it
 * meets inside a rule becomes an `unknown` match (the rule then differs from every compiled rule, and the
 * diff rewrites its chain); objects netpol never creates (counters, quotas, flowtables, non-verdict maps)
 * are ignored. Input that is not nft's JSON at all gives `undefined`. Never throws.
 */
import type { PortRange } from '../policy/index.js';
import { canonicalAddress, concatElement, elementInterval, sortElements } from './elements.js';
import type { AddressField, BaseChainSpec, Chain, CtState, Family, L4Protocol, Match, NamedSet, Rule, Ruleset, SetKeyType, Verdict, VerdictMap } from './ir.js';
import { CT_STATE_ORDER } from './ir.js';

type Json = unknown;

function obj(v: Json): Record<string, Json> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : undefined;
}

function str(v: Json): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: Json): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const L4: Record<string, L4Protocol> = { tcp: 'tcp', udp: 'udp', sctp: 'sctp', '6': 'tcp', '17': 'udp', '132': 'sctp' };
const ICMPV6_TYPES: Record<string, number> = {
  'nd-router-solicit': 133,
  'nd-router-advert': 134,
  'nd-neighbor-solicit': 135,
  'nd-neighbor-advert': 136,
  'nd-redirect': 137,
};

function setKeyType(t: Json): SetKeyType | undefined {
  if (t === 'ipv4_addr' || t === 'ipv6_addr') return t;
  if (Array.isArray(t) && t.length === 2 && t[1] === 'inet_service') {
    if (t[0] === 'ipv4_addr') return 'ipv4_addr . inet_service';
    if (t[0] === 'ipv6_addr') return 'ipv6_addr . inet_service';
  }
  return undefined;
}

/** One element as canonical text; undefined when it is not a shape netpol creates. */
function elementText(e: Json, type: SetKeyType): string | undefined {
  const wrapped = obj(e)?.elem;
  if (wrapped !== undefined) return elementText(obj(wrapped)?.val, type);
  const family: Family = type.startsWith('ipv4') ? 4 : 6;
  if (type.includes('.')) {
    const parts = obj(e)?.concat;
    if (!Array.isArray(parts) || parts.length !== 2) return undefined;
    const addr = canonicalAddress(str(parts[0]) ?? '', family);
    const port = num(parts[1]);
    return addr !== undefined && port !== undefined ? concatElement(addr, port) : undefined;
  }
  const s = str(e);
  if (s !== undefined) return canonicalAddress(s, family);
  const prefix = obj(obj(e)?.prefix);
  if (prefix) {
    const addr = canonicalAddress(str(prefix.addr) ?? '', family);
    const len = num(prefix.len);
    if (addr === undefined || len === undefined) return undefined;
    const text = `${addr}/${len}`;
    const iv = elementInterval(text, family);
    return iv && iv[0] === iv[1] ? addr : text;
  }
  const range = obj(e)?.range;
  if (Array.isArray(range) && range.length === 2) {
    const lo = canonicalAddress(str(range[0]) ?? '', family);
    const hi = canonicalAddress(str(range[1]) ?? '', family);
    return lo !== undefined && hi !== undefined ? (lo === hi ? lo : `${lo}-${hi}`) : undefined;
  }
  return undefined;
}

function payload(v: Json): { protocol: string; field: string } | undefined {
  const p = obj(obj(v)?.payload);
  const protocol = str(p?.protocol);
  const field = str(p?.field);
  return protocol !== undefined && field !== undefined ? { protocol, field } : undefined;
}

function addressPayload(v: Json): { family: Family; field: AddressField } | undefined {
  const p = payload(v);
  if (!p || (p.field !== 'saddr' && p.field !== 'daddr')) return undefined;
  if (p.protocol === 'ip') return { family: 4, field: p.field };
  if (p.protocol === 'ip6') return { family: 6, field: p.field };
  return undefined;
}

/** `tcp dport` -> tcp; `th dport` -> null (protocol matched separately); anything else -> undefined. */
function dportPayload(v: Json): L4Protocol | null | undefined {
  const p = payload(v);
  if (!p || p.field !== 'dport') return undefined;
  if (p.protocol === 'th') return null;
  return L4[p.protocol];
}

function setRef(v: Json): string | undefined {
  const s = str(v);
  return s !== undefined && s.startsWith('@') ? s.slice(1) : undefined;
}

function portRanges(v: Json): PortRange[] | undefined {
  const one = (x: Json): PortRange | undefined => {
    const n = num(x);
    if (n !== undefined) return [n, n];
    const r = obj(x)?.range;
    if (Array.isArray(r) && r.length === 2) {
      const a = num(r[0]);
      const b = num(r[1]);
      if (a !== undefined && b !== undefined) return [a, b];
    }
    return undefined;
  };
  const set = obj(v)?.set;
  const items = Array.isArray(set) ? set : [v];
  const out: PortRange[] = [];
  for (const x of items) {
    const r = one(x);
    if (!r) return undefined;
    out.push(r);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Matches of one `match` statement (a folded `tcp dport` yields the protocol match and the port match). */
function parseMatch(m: Record<string, Json>): Match[] | undefined {
  const op = str(m.op);
  const left = m.left;
  const right = m.right;
  const leftObj = obj(left);
  if (str(obj(leftObj?.ct)?.key) === 'state' && (op === 'in' || op === '==')) {
    const list = Array.isArray(right) ? right : [right];
    const states = list.map(str);
    if (states.some((s) => s === undefined || !CT_STATE_ORDER.includes(s as CtState))) return undefined;
    return [{ kind: 'ct-state', states: CT_STATE_ORDER.filter((s) => states.includes(s)) }];
  }
  if (op !== '==') return undefined;
  const addr = addressPayload(left);
  const ref = setRef(right);
  if (addr && ref !== undefined) return [{ kind: 'address', family: addr.family, field: addr.field, set: ref }];
  if (str(obj(leftObj?.meta)?.key) === 'l4proto') {
    const p = L4[String(str(right) ?? num(right))];
    return p ? [{ kind: 'l4proto', protocol: p }] : undefined;
  }
  const dport = dportPayload(left);
  if (dport !== undefined) {
    const ranges = portRanges(right);
    if (!ranges) return undefined;
    const out: Match[] = dport ? [{ kind: 'l4proto', protocol: dport }] : [];
    return [...out, { kind: 'dport', ranges }];
  }
  const concat = leftObj?.concat;
  if (Array.isArray(concat) && concat.length === 2 && ref !== undefined) {
    const a = addressPayload(concat[0]);
    const p = dportPayload(concat[1]);
    if (!a || a.field !== 'daddr' || p === undefined) return undefined;
    const out: Match[] = p ? [{ kind: 'l4proto', protocol: p }] : [];
    return [...out, { kind: 'daddr-dport', family: a.family, set: ref }];
  }
  const icmp = payload(left);
  if (icmp && icmp.protocol === 'icmpv6' && icmp.field === 'type') {
    const set = obj(right)?.set;
    const list = (Array.isArray(set) ? set : [right]).map(str);
    if (list.some((x) => x === undefined || ICMPV6_TYPES[x] === undefined)) return undefined;
    const types = (list as string[]).sort((a, b) => (ICMPV6_TYPES[a] ?? 0) - (ICMPV6_TYPES[b] ?? 0));
    return [{ kind: 'icmpv6-type', types }];
  }
  return undefined;
}

function parseVerdict(key: string, value: Json): Verdict | undefined {
  switch (key) {
    case 'accept':
    case 'drop':
    case 'return':
      return { kind: key };
    case 'jump':
    case 'goto': {
      const target = str(obj(value)?.target);
      return target !== undefined ? { kind: key, chain: target } : undefined;
    }
    case 'reject': {
      const r = obj(value);
      if (str(r?.type) === 'tcp reset') return { kind: 'reject', with: 'tcp-reset' };
      if (str(r?.type) === 'icmpx' && str(r?.expr) === 'admin-prohibited') return { kind: 'reject', with: 'icmpx-admin-prohibited' };
      return undefined;
    }
    case 'vmap': {
      const v = obj(value);
      const a = addressPayload(v?.key);
      const map = setRef(v?.data);
      return a && map !== undefined ? { kind: 'vmap', family: a.family, field: a.field, map } : undefined;
    }
    default:
      return undefined;
  }
}

function parseRule(r: Record<string, Json>): Rule {
  const matches: Match[] = [];
  let counter = false;
  let limit: Rule['limit'];
  let log: Rule['log'];
  let verdict: Verdict | undefined;
  const unknown = (x: Json): void => {
    matches.push({ kind: 'unknown', json: JSON.stringify(x) });
  };
  const exprs = Array.isArray(r.expr) ? r.expr : [];
  for (const e of exprs) {
    const o = obj(e);
    const keys = o ? Object.keys(o) : [];
    const key = keys[0];
    if (!o || keys.length !== 1 || key === undefined) {
      unknown(e);
      continue;
    }
    const value = o[key];
    if (key === 'match') {
      const m = obj(value);
      const parsed = m ? parseMatch(m) : undefined;
      if (parsed) matches.push(...parsed);
      else unknown(e);
    } else if (key === 'counter') {
      counter = true;
    } else if (key === 'limit') {
      const l = obj(value);
      const rate = num(l?.rate);
      const per = str(l?.per);
      const burst = num(l?.burst) ?? 5;
      if (rate !== undefined && (per === 'second' || per === 'minute') && !l?.inv && (l?.rate_unit ?? 'packets') === 'packets') {
        limit = { rate, per, burst };
      } else unknown(e);
    } else if (key === 'log') {
      const l = obj(value);
      const keysOfLog = l ? Object.keys(l) : [];
      const prefix = str(l?.prefix);
      if (prefix !== undefined && keysOfLog.length === 1) log = { prefix };
      else unknown(e);
    } else {
      const v = parseVerdict(key, value);
      if (v && verdict === undefined) verdict = v;
      else unknown(e);
    }
  }
  const comment = str(r.comment);
  return {
    matches,
    ...(counter ? { counter } : {}),
    ...(limit ? { limit } : {}),
    ...(log ? { log } : {}),
    ...(verdict ? { verdict } : {}),
    ...(comment !== undefined ? { comment } : {}),
  };
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The table nft printed, as IR; `table` picks the table when the listing holds several (default: the first
 * `inet` table). Undefined when the input is not nft's JSON listing or holds no such table.
 */
export function rulesetFromNftJson(json: unknown, table?: string): Ruleset | undefined {
  const list = obj(json)?.nftables;
  if (!Array.isArray(list)) return undefined;
  let name = table;
  if (name === undefined) {
    for (const item of list) {
      const t = obj(obj(item)?.table);
      if (t && str(t.family) === 'inet' && str(t.name) !== undefined) {
        name = str(t.name);
        break;
      }
    }
  }
  if (name === undefined) return undefined;
  const mine = (o: Record<string, Json> | undefined): o is Record<string, Json> => o !== undefined && str(o.family) === 'inet' && str(o.table) === name;
  if (
    !list.some((item) => {
      const t = obj(obj(item)?.table);
      return t && str(t.family) === 'inet' && str(t.name) === name;
    })
  )
    return undefined;

  const sets: NamedSet[] = [];
  const maps: VerdictMap[] = [];
  const chainOrder: Chain[] = [];
  const rules = new Map<string, Rule[]>();
  for (const item of list) {
    const o = obj(item);
    const set = obj(o?.set);
    if (mine(set)) {
      const type = setKeyType(set.type);
      const setName = str(set.name);
      if (!type || setName === undefined) continue;
      const flags = Array.isArray(set.flags) ? set.flags : [];
      const elems = Array.isArray(set.elem) ? set.elem : [];
      const texts: string[] = [];
      for (const e of elems) {
        const text = elementText(e, type);
        // An element we cannot read still has to be counted as present: keep something no compiled element equals.
        texts.push(text ?? `?${JSON.stringify(e)}`);
      }
      const comment = str(set.comment);
      sets.push({ name: setName, type, interval: flags.includes('interval'), ...(comment !== undefined ? { comment } : {}), elements: sortElements(texts, type) });
      continue;
    }
    const map = obj(o?.map);
    if (mine(map)) {
      const mapName = str(map.name);
      const type = map.type === 'ipv4_addr' || map.type === 'ipv6_addr' ? map.type : undefined;
      if (mapName === undefined || !type || map.map !== 'verdict') continue;
      const fam: Family = type === 'ipv4_addr' ? 4 : 6;
      const elements: [string, string][] = [];
      for (const e of Array.isArray(map.elem) ? map.elem : []) {
        // Unreadable keys or verdicts are kept as `?...`, so the diff replaces them (see renderDiff).
        const pair = Array.isArray(e) && e.length === 2 ? e : [e, undefined];
        const key = canonicalAddress(str(pair[0]) ?? '', fam) ?? `?${JSON.stringify(pair[0])}`;
        const target = str(obj(obj(pair[1])?.jump)?.target) ?? `?${JSON.stringify(pair[1])}`;
        elements.push([key, target]);
      }
      const order = new Map(
        sortElements(
          elements.map((x) => x[0]),
          type,
        ).map((a, i) => [a, i]),
      );
      elements.sort((a, b) => (order.get(a[0]) ?? 0) - (order.get(b[0]) ?? 0));
      maps.push({ name: mapName, type, elements });
      continue;
    }
    const chain = obj(o?.chain);
    if (mine(chain)) {
      const chainName = str(chain.name);
      if (chainName === undefined) continue;
      const hook = str(chain.hook);
      const prio = num(chain.prio);
      const policy = str(chain.policy);
      const base: BaseChainSpec | undefined =
        (hook === 'forward' || hook === 'input') && str(chain.type) === 'filter' && prio !== undefined && (policy === 'accept' || policy === 'drop')
          ? { type: 'filter', hook, priority: prio, policy }
          : undefined;
      // A base chain on a hook netpol does not use still has to be seen as different from everything.
      const foreignBase = hook !== undefined && !base;
      chainOrder.push({ name: chainName, ...(base ? { base } : {}), rules: [] });
      if (foreignBase) rules.set(chainName, [{ matches: [{ kind: 'unknown', json: JSON.stringify(chain) }] }]);
      continue;
    }
    const rule = obj(o?.rule);
    if (mine(rule)) {
      const chainName = str(rule.chain);
      if (chainName === undefined) continue;
      rules.set(chainName, [...(rules.get(chainName) ?? []), parseRule(rule)]);
    }
  }
  const chains = chainOrder.map((c) => ({ ...c, rules: rules.get(c.name) ?? [] }));
  const baseOrder = (c: Chain): number => (c.base?.hook === 'forward' ? 0 : c.base?.hook === 'input' ? 1 : 2);
  chains.sort((a, b) => baseOrder(a) - baseOrder(b) || (baseOrder(a) < 2 ? 0 : byName(a, b)));
  return { family: 'inet', table: name, sets: sets.sort(byName), maps: maps.sort(byName), chains };
}

/**
 * The explanation panel: a `check` verdict (or a group answer) as sections a reviewer scans: the
 * verdict, then each side (egress of the source, ingress of the destination) with the policies that
 * isolate it, their rules, and for each rule the peer and port that matched or why they did not.
 * Port ranges and label texts are printed by the CLI's own helpers. Everything is text (dom.ts).
 */
import type { PeerResult, PolicyResult, RuleResult, SideResult } from '../engine/types.js';
import { portsText } from '../cli/render/verdict.js';
import { renderTierSide } from '../cli/render/tiers.js';
import { labelsText } from '../selector/index.js';
import type { GroupAnswer, Verdict } from './api.js';
import { h } from './dom.js';

export function renderAnswer(a: Verdict | GroupAnswer, edited: boolean, open: (from: string, to: string) => void): HTMLElement {
  if ('pairs' in a) return renderGroup(a, edited, open);
  return renderVerdict(a, edited);
}

function renderGroup(a: GroupAnswer, edited: boolean, open: (from: string, to: string) => void): HTMLElement {
  const example = a.deniedExample ?? a.allowedExample;
  return h(
    'section',
    { class: 'verdict' },
    h(
      'p',
      { class: `headline ${a.allowed ? 'allowed' : 'denied'}`, 'data-verdict': a.allowed ? 'allowed' : 'denied' },
      a.allowed ? 'ALLOWED' : a.allowedPairs === 0 ? 'DENIED' : 'PARTLY ALLOWED',
      edited ? ' (with your edits)' : '',
    ),
    h('p', {}, `${a.from} → ${a.to} ${a.protocol} ${a.port ?? 'any port'}: ${a.allowedPairs} of ${a.pairs} pairs allowed`),
    example && h('p', {}, 'for example: ', h('button', { class: 'link', onclick: () => open(example.from, example.to) }, `${example.from} → ${example.to}`)),
    example && renderVerdict(example, edited),
  );
}

function reason(v: Verdict): string {
  switch (v.reason) {
    case 'self':
      return 'a pod may always talk to itself';
    case 'outside-cluster':
      return 'neither end is a pod of the cluster: NetworkPolicy does not apply';
    case 'not-isolated':
      return 'neither side is isolated: no policy selects them';
    case 'allowed-by-policy':
      return 'both sides allow it';
    case 'denied-by-egress':
      return `egress of ${v.egress.subject} does not allow it`;
    case 'denied-by-ingress':
      return `ingress of ${v.ingress.subject} does not allow it`;
    case 'denied-by-both':
      return v.egress.allowed && v.ingress.allowed ? 'each side allows some port, but none in common' : 'neither side allows it';
  }
}

export function renderVerdict(v: Verdict, edited: boolean): HTMLElement {
  const port = v.port === null ? 'any port' : `port ${v.port}${v.resolvedPort !== undefined ? ` (= ${v.resolvedPort})` : ''}`;
  const workloads = [
    [v.from, v.fromWorkload],
    [v.to, v.toWorkload],
  ] as const;
  return h(
    'section',
    { class: 'verdict' },
    h('p', { class: `headline ${v.allowed ? 'allowed' : 'denied'}`, 'data-verdict': v.allowed ? 'allowed' : 'denied' }, v.allowed ? 'ALLOWED' : 'DENIED', edited ? ' (with your edits)' : ''),
    h('p', { class: 'traffic' }, h('strong', {}, v.from), ' → ', h('strong', {}, v.to), ` ${v.protocol} ${port}`),
    h('p', {}, reason(v)),
    workloads.map(([end, w]) => w && h('p', { class: 'note' }, `${end} stands for the pods of ${w.kind} ${w.name}${w.replicas !== undefined ? ` (${w.replicas} replicas)` : ''}`)),
    v.port === null && v.allowed && h('p', {}, `allowed on ${v.protocol} ${portsText(v.allowedPorts)}`),
    v.unresolvedPortName !== undefined && h('p', { class: 'note' }, `${v.to} has no ${v.protocol} port named "${v.unresolvedPortName}": only rules allowing every port can admit it`),
    v.reason !== 'self' && [renderSide(v.egress, v.protocol, v.to), renderSide(v.ingress, v.protocol, v.from)],
  );
}

function renderSide(s: SideResult, protocol: string, other: string): HTMLElement {
  if (s.tiers) return renderTiered(s, protocol, other);
  const title = s.direction === 'egress' ? `Egress from ${s.subject}` : `Ingress to ${s.subject}`;
  const state = !s.enforced
    ? 'outside the cluster: no policy applies'
    : !s.isolated
      ? `allowed: not isolated (no policy selects it for ${s.direction})`
      : `${s.allowed ? 'allowed' : 'denied'}: isolated by ${s.policies.length} ${s.policies.length === 1 ? 'policy' : 'policies'}, admits ${s.admits.length === 0 ? `no ${protocol} port` : `${protocol} ${portsText(s.admits)}`} ${s.direction === 'egress' ? 'to' : 'from'} ${other}`;
  return h('details', { class: `side ${s.allowed ? 'allowed' : 'denied'}`, open: true }, h('summary', {}, h('strong', {}, title), ': ', state), s.policies.map(renderPolicy));
}

/**
 * A side decided through the tiers: the decision (which admin or baseline policy and rule, or
 * NetworkPolicy after a Pass or with no admin rule matching, or the default) and the cluster policies
 * tried, in the words of `netpol check`; then the NetworkPolicies selecting the subject.
 */
function renderTiered(s: SideResult, protocol: string, other: string): HTMLElement {
  const [decision, ...tried] = renderTierSide(s, s.tiers!, protocol, other);
  const title = s.direction === 'egress' ? `Egress from ${s.subject}` : `Ingress to ${s.subject}`;
  const rest = decision!.slice(decision!.indexOf(': ') + 2);
  return h(
    'details',
    { class: `side tiered ${s.allowed ? 'allowed' : 'denied'}`, open: true },
    h('summary', {}, h('strong', {}, title), ': ', h('span', { class: 'tier-decision' }, rest)),
    tried.length > 0 && h('pre', { class: 'tiers' }, tried.map((l) => l.replace(/^ {2}/, '')).join('\n')),
    s.policies.length > 0 && h('p', { class: 'note' }, `NetworkPolicies selecting ${s.subject} for ${s.direction}:`),
    s.policies.map(renderPolicy),
  );
}

function renderPolicy(p: PolicyResult): HTMLElement {
  const types = `${p.policyTypes.map((t) => (t === 'ingress' ? 'Ingress' : 'Egress')).join(', ')}${p.policyTypesDefaulted ? ' (defaulted)' : ''}`;
  return h(
    'div',
    { class: `policy ${p.allows ? 'allows' : 'not'}` },
    h('p', {}, h('strong', {}, `${p.policy.namespace}/${p.policy.name}`), ` [${types}]: ${p.allows ? 'allows' : 'does not allow'}`),
    p.rules.length === 0 && h('p', { class: 'rule' }, 'no rules: allows nothing'),
    h('ul', {}, p.rules.map(renderRule)),
  );
}

function renderRule(r: RuleResult): HTMLElement {
  const field = r.direction === 'ingress' ? 'from' : 'to';
  const verdict = r.matched ? 'matches' : !r.peerMatched ? 'peer does not match' : 'port does not match';
  const peers = r.peers === 'all' ? [h('li', {}, `${field}: (empty) every peer`)] : r.peers.map((p) => h('li', { class: p.matched ? 'hit' : 'miss' }, `${field}[${p.index}] `, peerText(p)));
  const ports =
    r.ports === 'all'
      ? [h('li', {}, 'ports: (empty) every port and protocol')]
      : [
          ...r.ports.map((p) =>
            h(
              'li',
              {},
              `ports[${p.index}] ${p.protocol}/${p.port}${p.resolvedTo !== undefined ? ` (= ${p.resolvedTo} on the destination)` : /^[a-z]/.test(p.port) ? ' (not defined on the destination)' : ''}`,
            ),
          ),
          h('li', {}, `admits ${portsText(r.admits)}`),
        ];
  return h('li', { class: `rule ${r.matched ? 'hit' : 'miss'}` }, h('span', {}, `${r.direction}[${r.index}]: ${verdict}`), h('ul', {}, peers, ports));
}

function peerText(p: PeerResult): string {
  const mark = p.matched ? 'matches' : 'no match';
  if (p.ipBlock) {
    const b = p.ipBlock;
    const addrs = b.addresses.length ? b.addresses.join(', ') : '(no address known)';
    const why = p.matched ? '' : b.excludedBy ? `: ${addrs} excluded by ${b.excludedBy}` : !b.inCidr ? `: ${addrs} not in ${b.cidr}` : '';
    return `ipBlock ${b.cidr}${b.except.length ? ` except ${b.except.join(', ')}` : ''}: ${mark}${why}`;
  }
  if (p.mismatch === 'external-endpoint') return 'pod selector: no match (the other end is an address)';
  const parts: string[] = [];
  const ns = p.namespace;
  if (ns?.scope === 'own') parts.push(`namespace ${ns.expected}${ns.matched ? '' : ` (pod is in ${ns.actual})`}`);
  else if (ns) parts.push(`namespaceSelector ${ns.expected}${ns.matched ? '' : ` (${ns.actual} has ${labelsText(ns.labels ?? {})}: fails ${ns.unmet.join(', ')})`}`);
  parts.push(p.pod ? `podSelector ${p.pod.selector}${p.pod.matched ? '' : ` (pod has ${labelsText(p.pod.labels)}: fails ${p.pod.unmet.join(', ')})`}` : 'all pods');
  return `${parts.join(' / ')}: ${mark}`;
}

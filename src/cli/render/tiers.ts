/**
 * Text rendering of one side's tiers (cluster-scoped policies): who decided the asked ports (an admin
 * policy's rule, NetworkPolicy after a Pass or because no admin rule matched, a baseline rule, the
 * default), then every cluster policy selecting the subject with its rules tried. Lines are escaped by
 * the caller (renderVerdict).
 */
import type { ClusterPeerResult, ClusterPolicyResult, ClusterRuleResult, PortDecision, SideResult, TierDecider, TierResult } from '../../engine/index.js';
import type { Action, ClusterPolicyRef } from '../../policy/index.js';

function actionText(kind: ClusterPolicyRef['kind'], a: Action): string {
  if (a === 'accept') return kind === 'ClusterNetworkPolicy' ? 'Accept' : 'Allow';
  return a === 'deny' ? 'Deny' : 'Pass';
}

function ruleRef(direction: string, index: number, name: string | undefined): string {
  return `${direction}[${index}]${name ? ` "${name}"` : ''}`;
}

export function deciderText(by: TierDecider, direction: string, passes: readonly PortDecision[]): string {
  switch (by.tier) {
    case 'admin':
    case 'baseline':
      return (
        `${by.policy.kind}/${by.policy.name} (${by.tier} tier, priority ${by.priority}${by.mode === 'audit' ? ', audit mode' : ''}) rule ${ruleRef(direction, by.rule, by.ruleName)}: ` +
        `${actionText(by.policy.kind, by.action)}${by.failClosed ? ' (a peer of no known kind: fails closed, denies all)' : ''}`
      );
    case 'networkpolicy':
      return `NetworkPolicy${afterPass(passes, direction) ?? ' (no admin tier rule matched)'}`;
    case 'default':
      return `the default (no tier decided: allowed)${afterPass(passes, direction) ?? ''}`;
  }
}

/** `, after a Pass by Kind/name rule ...` for the first Pass that handed the ports on, if any. */
function afterPass(passes: readonly PortDecision[], direction: string): string | undefined {
  const by = passes[0]?.by;
  if (!by || (by.tier !== 'admin' && by.tier !== 'baseline')) return undefined;
  return `, after a Pass by ${by.policy.kind}/${by.policy.name} rule ${ruleRef(direction, by.rule, by.ruleName)}`;
}

function portsOf(d: PortDecision, protocol: string): string {
  if (d.ports.length === 0) return protocol;
  return `${protocol} ${d.ports.map(([a, b]) => (a === b ? `${a}` : a === 1 && b === 65535 ? 'all ports' : `${a}-${b}`)).join(',')}`;
}

/** The lines for a side that has tiers: verdict with its decider(s), then the cluster policies tried. */
export function renderTierSide(s: SideResult, t: TierResult, protocol: string, other: string): string[] {
  const title = s.direction === 'egress' ? `egress from ${s.subject} to ${other}` : `ingress to ${s.subject} from ${other}`;
  const lines: string[] = [];
  if (t.decisions.length === 1) {
    lines.push(`${title}: ${s.allowed ? 'allowed' : 'DENIED'} by ${deciderText(t.decisions[0]!.by, s.direction, t.passes)}`);
  } else {
    lines.push(`${title}: ${s.allowed ? 'allowed' : 'DENIED'}`);
    for (const d of t.decisions) lines.push(`  ${portsOf(d, protocol)}: ${d.allowed ? 'allowed' : 'denied'} by ${deciderText(d.by, s.direction, t.passes)}`);
  }
  for (const [tier, list] of [
    ['admin', t.admin],
    ['baseline', t.baseline],
  ] as const) {
    if (list.length === 0) continue;
    lines.push(`  ${tier} tier: ${list.length} ${list.length === 1 ? 'policy selects' : 'policies select'} ${s.subject} for ${s.direction}`);
    for (const p of list) lines.push(...renderClusterPolicy(p));
  }
  return lines;
}

function renderClusterPolicy(p: ClusterPolicyResult): string[] {
  const lines = [`    ${p.policy.kind}/${p.policy.name} (priority ${p.priority}${p.mode === 'audit' ? ', audit mode' : ''})`];
  for (const r of p.rules) lines.push(...renderRule(p.policy.kind, r));
  return lines;
}

function renderRule(kind: ClusterPolicyRef['kind'], r: ClusterRuleResult): string[] {
  const field = r.direction === 'ingress' ? 'from' : 'to';
  const state = r.failClosed ? 'fails closed' : !r.peerMatched ? 'peer does not match' : r.admits.length === 0 ? 'port does not match' : 'matches';
  const lines = [`      ${ruleRef(r.direction, r.index, r.name)} ${actionText(kind, r.action)}: ${state}`];
  for (const peer of r.peers) lines.push(`        ${field}[${peer.index}] ${peerText(peer)}`);
  if (r.ports !== 'all') lines.push(`        ports: ${r.ports.join(', ')}`);
  return lines;
}

function peerText(p: ClusterPeerResult): string {
  const why = p.unmet && p.unmet.length > 0 ? ` (fails ${p.unmet.join(', ')})` : '';
  return `${p.kind} ${p.text}: ${p.matched ? 'matches' : 'no match'}${p.matched ? '' : why}`;
}

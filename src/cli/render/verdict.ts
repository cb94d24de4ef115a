/** Text rendering of a verdict and its explanation (the JSON rendering is the data itself). */
import { stagedRefText, type AuditVerdict, type PeerResult, type PolicyResult, type RuleResult, type SideResult, type Verdict } from '../../engine/index.js';
import { PortSet } from '../../policy/index.js';
import { labelsText } from '../../selector/index.js';
import { safeText } from './escape.js';
import { renderTierSide } from './tiers.js';

/** One clause per side: what that end says about the traffic. */
function sideClause(s: SideResult): string {
  if (!s.enforced) return `${s.subject} is outside the cluster`;
  if (s.tiers) return `${s.direction} of ${s.subject} ${s.allowed ? 'allows' : 'does not allow'} it`;
  if (!s.isolated) return `${s.direction} of ${s.subject} is not isolated`;
  return `${s.direction} of ${s.subject} ${s.allowed ? 'allows' : 'does not allow'} it`;
}

function reasonText(v: Verdict): string {
  if (v.reason === 'self') return 'a pod may always talk to itself';
  if (v.reason === 'outside-cluster') return 'neither end is a pod of the cluster; NetworkPolicy does not apply';
  const clauses = `${sideClause(v.egress)}; ${sideClause(v.ingress)}`;
  return v.reason === 'denied-by-both' && v.egress.allowed && v.ingress.allowed ? `${clauses}, but on no common port` : clauses;
}

export function portsText(ranges: readonly (readonly [number, number])[]): string {
  return PortSet.of(ranges).toString();
}

/**
 * Every line is escaped whole (safeText): names, labels, selectors and port names come from input, and
 * the renderer's own text has no control characters or backslashes to lose.
 */
export function renderVerdict(v: Verdict, audit?: AuditVerdict): string {
  const port = v.port === null ? 'any port' : `port ${v.port}${v.resolvedPort !== undefined ? ` (=${v.resolvedPort})` : ''}`;
  const lines: string[] = [];
  // Audit mode: the verdict of the policies as written, and what is enforced today when that differs.
  const staged = audit && audit.by.length > 0 ? ` by ${audit.by.map(stagedRefText).join(', ')} (audit: ${audit.today.allowed ? 'allowed' : 'denied'} today)` : '';
  lines.push(`${v.allowed ? 'ALLOWED' : 'DENIED'}${staged}: ${v.from} -> ${v.to} ${v.protocol} ${port}: ${reasonText(v)}`);
  for (const [end, w] of [
    [v.from, v.fromWorkload],
    [v.to, v.toWorkload],
  ] as const) {
    if (w) lines.push(`  ${end} stands for the pods of ${w.kind} ${w.name}${w.replicas !== undefined ? ` (${w.replicas} replicas)` : ''}`);
  }
  if (v.reason === 'denied-by-both' && v.egress.allowed && v.ingress.allowed) {
    lines.push(`  egress admits ${v.protocol} ${portsText(v.egress.admits)}, ingress admits ${portsText(v.ingress.admits)}: no port in common`);
  }
  if (v.port === null && v.allowed) lines.push(`  allowed on ${v.protocol} ${portsText(v.allowedPorts)}`);
  if (v.unresolvedPortName !== undefined) {
    lines.push(`  note: ${v.to} has no ${v.protocol} container port named "${v.unresolvedPortName}"; only rules that allow every ${v.protocol} port can admit it`);
  }
  if (v.reason !== 'self') {
    lines.push(...renderSide(v.egress, v.protocol, v.to));
    lines.push(...renderSide(v.ingress, v.protocol, v.from));
  }
  return `${lines.map(safeText).join('\n')}\n`;
}

function renderSide(s: SideResult, protocol: string, other: string): string[] {
  const title = s.direction === 'egress' ? `egress from ${s.subject}` : `ingress to ${s.subject}`;
  if (s.tiers) {
    // Cluster-scoped policies: the tiers first, then the NetworkPolicies of the subject (the middle tier).
    const lines = renderTierSide(s, s.tiers, protocol, other);
    if (s.isolated) {
      lines.push(`  networkpolicy tier: ${s.policies.length} ${s.policies.length === 1 ? 'policy isolates' : 'policies isolate'} ${s.subject} for ${s.direction}`);
      for (const p of s.policies) lines.push(...renderPolicy(p).map((l) => `  ${l}`));
    }
    return lines;
  }
  if (!s.enforced) return [`${title}: not a pod of the cluster, no NetworkPolicy applies`];
  if (!s.isolated) return [`${title}: allowed (no NetworkPolicy selects it for ${s.direction}; not isolated)`];
  const lines = [
    `${title}: ${s.allowed ? 'allowed' : 'DENIED'} (isolated by ${s.policies.length} ${s.policies.length === 1 ? 'policy' : 'policies'}; ` +
      `${s.admits.length === 0 ? `admits no ${protocol} port` : `admits ${protocol} ${portsText(s.admits)}`} ${s.direction === 'egress' ? 'to' : 'from'} ${other})`,
  ];
  for (const p of s.policies) lines.push(...renderPolicy(p));
  return lines;
}

function renderPolicy(p: PolicyResult): string[] {
  const types = `${p.policyTypes.map((t) => (t === 'ingress' ? 'Ingress' : 'Egress')).join(', ')}${p.policyTypesDefaulted ? ', defaulted' : ''}`;
  const mode = p.mode === 'audit' ? ' (audit mode)' : '';
  const lines = [`  policy ${p.policy.namespace}/${p.policy.name}${mode} [${types}]: ${p.allows ? 'allows' : 'does not allow'}`];
  const direction = p.rules[0]?.direction;
  if (p.rules.length === 0) lines.push(`    no ${direction ?? ''} rules: allows nothing`.replace('  rules', ' rules'));
  for (const r of p.rules) lines.push(...renderRule(r));
  return lines;
}

function renderRule(r: RuleResult): string[] {
  const field = r.direction === 'ingress' ? 'from' : 'to';
  const verdict = r.matched ? 'matches' : !r.peerMatched ? 'peer does not match' : 'port does not match';
  const lines = [`    ${r.direction}[${r.index}]: ${verdict}`];
  if (r.peers === 'all') lines.push(`      ${field}: (empty) matches every peer`);
  else for (const peer of r.peers) lines.push(`      ${field}[${peer.index}] ${peerText(peer)}`);
  if (r.ports === 'all') lines.push('      ports: (empty) match every port and protocol');
  else {
    for (const port of r.ports) {
      const resolved = port.resolvedTo !== undefined ? ` (=${port.resolvedTo} on the destination)` : /^[a-z]/.test(port.port) ? ' (not defined on the destination)' : '';
      lines.push(`      ports[${port.index}] ${port.protocol}/${port.port}${resolved}`);
    }
    lines.push(`      admits: ${portsText(r.admits)}`);
  }
  return lines;
}

function peerText(p: PeerResult): string {
  const mark = p.matched ? 'matches' : 'no match';
  if (p.ipBlock) {
    const b = p.ipBlock;
    const block = `ipBlock ${b.cidr}${b.except.length ? ` except ${b.except.join(',')}` : ''}`;
    const addrs = b.addresses.length ? b.addresses.join(',') : '(no address known)';
    const why = p.matched ? '' : b.excludedBy ? `: ${addrs} excluded by ${b.excludedBy}` : !b.inCidr ? `: ${addrs} not in ${b.cidr}` : '';
    return `${block}: ${mark}${why}`;
  }
  if (p.mismatch === 'external-endpoint') return `pod selector: no match: the other end is an address, not a pod`;
  if (p.mismatch === 'unknown-address') return `ipBlock: no match: the other end is a domain name, whose addresses analysis does not know`;
  const parts: string[] = [];
  const ns = p.namespace;
  if (ns) {
    if (ns.scope === 'own') parts.push(`namespace ${ns.expected}${ns.matched ? '' : ` (pod is in ${ns.actual})`}`);
    else parts.push(`namespaceSelector ${ns.expected}${ns.matched ? '' : ` (namespace ${ns.actual} has ${labelsText(ns.labels ?? {})}: fails ${ns.unmet.join(',')})`}`);
  }
  if (p.pod) parts.push(`podSelector ${p.pod.selector}${p.pod.matched ? '' : ` (pod has ${labelsText(p.pod.labels)}: fails ${p.pod.unmet.join(',')})`}`);
  else parts.push('all pods');
  return `${parts.join(' / ')}: ${mark}`;
}

/** Walking a policy's rules and peers as written, with their field paths (shared by several rules). */
import type { PolicyInfo, NetworkPolicyPeer, NetworkPolicyPort } from '../../model/index.js';
import type { Direction } from '../../policy/index.js';

export interface WrittenRule {
  readonly direction: Direction;
  readonly index: number;
  /** `spec.ingress[0]`. */
  readonly path: string;
  /** `from` or `to` as written (undefined when absent). */
  readonly peers: readonly NetworkPolicyPeer[] | undefined;
  readonly ports: readonly NetworkPolicyPort[] | undefined;
  /** `from` or `to`. */
  readonly peersField: 'from' | 'to';
}

export function rulesOf(info: PolicyInfo): WrittenRule[] {
  const out: WrittenRule[] = [];
  (info.policy.spec.ingress ?? []).forEach((r, index) => out.push({ direction: 'ingress', index, path: `spec.ingress[${index}]`, peers: r.from, ports: r.ports, peersField: 'from' }));
  (info.policy.spec.egress ?? []).forEach((r, index) => out.push({ direction: 'egress', index, path: `spec.egress[${index}]`, peers: r.to, ports: r.ports, peersField: 'to' }));
  return out;
}

export function peersOf(info: PolicyInfo): { peer: NetworkPolicyPeer; path: string; rule: WrittenRule }[] {
  return rulesOf(info).flatMap((rule) => (rule.peers ?? []).map((peer, k) => ({ peer, path: `${rule.path}.${rule.peersField}[${k}]`, rule })));
}

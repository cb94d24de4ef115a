/**
 * The fixed parts of a node's ruleset: the base chains hooked into forward and input (replies first, then
 * the dispatch of local pods' addresses into their subject chains), and the tail of a subject chain that
 * no rule admitted (count, optional rate-limited log, then drop or reject).
 */
import type { Family } from '../ip/index.js';
import type { Direction } from '../policy/index.js';
import type { CompileOptions } from './compile.js';
import type { Chain, Rule } from './ir.js';
import { dispatchMapName, logPrefix, MAX_COMMENT, quotable } from './names.js';

/** ICMPv6 neighbour discovery a pod sends to its node; never subject to policy (it is not traffic to a peer). */
const ND_TYPES = ['nd-router-solicit', 'nd-neighbor-solicit', 'nd-neighbor-advert'];

export function denyRules(chain: { readonly name: string; readonly direction: Direction; readonly policies: readonly { readonly key: string }[] }, opts: CompileOptions): Rule[] {
  const keys = chain.policies.map((p) => p.key).join(', ');
  const rules: Rule[] = [{ matches: [], counter: true, comment: quotable(`${chain.direction} denied: isolated by ${keys}`, MAX_COMMENT) }];
  if (opts.log) {
    // The burst lets a tenth of a second's worth through at once (at least 5 packets).
    const rate = Math.max(1, Math.floor(opts.logRate ?? 10));
    rules.push({ matches: [], limit: { rate, per: 'second', burst: Math.max(5, Math.ceil(rate / 10)) }, log: { prefix: logPrefix('deny', chain.name) } });
  }
  if (opts.denyAction === 'reject') {
    // A TCP reset fails connect() at once and, unlike ICMP errors, is not rate-limited by the kernel.
    rules.push({ matches: [{ kind: 'l4proto', protocol: 'tcp' }], verdict: { kind: 'reject', with: 'tcp-reset' } });
    rules.push({ matches: [], verdict: { kind: 'reject', with: 'icmpx-admin-prohibited' } });
  } else {
    rules.push({ matches: [], verdict: { kind: 'drop' } });
  }
  return rules;
}

export function baseChains(): Chain[] {
  const established: Rule = {
    matches: [{ kind: 'ct-state', states: ['established', 'related'] }],
    verdict: { kind: 'accept' },
    comment: 'replies and related packets of allowed connections',
  };
  const dispatch = (direction: Direction, family: Family): Rule => ({
    matches: [],
    verdict: { kind: 'vmap', family, field: direction === 'egress' ? 'saddr' : 'daddr', map: dispatchMapName(direction, family) },
    comment: direction === 'egress' ? 'egress of isolated local pods' : 'ingress to isolated local pods',
  });
  return [
    {
      name: 'forward',
      base: { type: 'filter', hook: 'forward', priority: 0, policy: 'accept' },
      comment: 'pod traffic routed through the node: egress of local pods, then ingress to local pods',
      rules: [
        established,
        { matches: [{ kind: 'ct-state', states: ['invalid'] }], verdict: { kind: 'drop' }, comment: 'invalid conntrack state' },
        dispatch('egress', 4),
        dispatch('egress', 6),
        dispatch('ingress', 4),
        dispatch('ingress', 6),
      ],
    },
    {
      name: 'input',
      base: { type: 'filter', hook: 'input', priority: 0, policy: 'accept' },
      comment: 'traffic from local pods to the node itself: egress only',
      rules: [established, { matches: [{ kind: 'icmpv6-type', types: ND_TYPES }], verdict: { kind: 'accept' }, comment: 'neighbour discovery' }, dispatch('egress', 4), dispatch('egress', 6)],
    },
  ];
}

/** Every lint rule, in the order their findings are listed for one object. Ids are stable: docs/lint/ID.md. */
import { andOrTrap } from './and-or-trap.js';
import { clusterRuleShadowed } from './cluster-rule-shadowed.js';
import { egressNoDns } from './egress-no-dns.js';
import { endportSupport } from './endport-support.js';
import { hiddenAllowAll } from './hidden-allow-all.js';
import { hostNetworkSelected } from './host-network-selected.js';
import { internetIngress } from './internet-ingress.js';
import { ipblockCoversPods } from './ipblock-covers-pods.js';
import { namedPortUndefined } from './named-port-undefined.js';
import { namespaceSelectorUnknownLabels } from './namespace-selector-unknown-labels.js';
import { podNotIsolated } from './pod-not-isolated.js';
import { passWithoutNetworkPolicy } from './pass-without-networkpolicy.js';
import { podSelectorNoPods } from './pod-selector-no-pods.js';
import { redundantRule } from './redundant-rule.js';
import type { LintRule } from '../types.js';

export const RULES: readonly LintRule[] = [
  egressNoDns,
  namespaceSelectorUnknownLabels,
  podSelectorNoPods,
  namedPortUndefined,
  andOrTrap,
  hiddenAllowAll,
  redundantRule,
  ipblockCoversPods,
  hostNetworkSelected,
  podNotIsolated,
  internetIngress,
  endportSupport,
  clusterRuleShadowed,
  passWithoutNetworkPolicy,
];

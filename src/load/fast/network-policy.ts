/** NetworkPolicy (networking.k8s.io/v1) on the fast path: decoded strictly, in place, as src/load does it. */
import { int32, isRec, list, mapped, onlyKeys, present, str, strList, strMap, type Rec } from './fields.js';
import { give } from './unsupported.js';

// NetworkPolicy is decoded strictly: every field must be one the API declares, with its type.
export const NP_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
const SPEC_KEYS = new Set(['podSelector', 'ingress', 'egress', 'policyTypes']);
const SELECTOR_KEYS = new Set(['matchLabels', 'matchExpressions']);
const REQ_KEYS = new Set(['key', 'operator', 'values']);
const PEER_KEYS = new Set(['podSelector', 'namespaceSelector', 'ipBlock']);
const IPBLOCK_KEYS = new Set(['cidr', 'except']);
const PORT_KEYS = new Set(['protocol', 'port', 'endPort']);
const INGRESS_KEYS = new Set(['ports', 'from']);
const EGRESS_KEYS = new Set(['ports', 'to']);

function selector(v: unknown): Rec {
  if (!isRec(v)) give('a selector is not a map');
  onlyKeys(v, SELECTOR_KEYS, 'selector');
  return present(v, (k, x) => {
    if (k === 'matchLabels') return strMap(x, 'matchLabels');
    return mapped(list(x, 'matchExpressions') ?? [], (r) => {
      if (!isRec(r)) give('a requirement is not a map');
      onlyKeys(r, REQ_KEYS, 'requirement');
      return present(r, (rk, rv) => (rk === 'values' ? strList(rv, 'values') : str(r, rk)));
    });
  });
}

function peer(v: unknown): Rec {
  if (!isRec(v)) give('a peer is not a map');
  onlyKeys(v, PEER_KEYS, 'peer');
  return present(v, (k, x) => {
    if (k !== 'ipBlock') return selector(x);
    if (!isRec(x)) give('ipBlock is not a map');
    onlyKeys(x, IPBLOCK_KEYS, 'ipBlock');
    return present(x, (bk, bv) => (bk === 'cidr' ? str(x, 'cidr') : strList(bv, 'except')));
  });
}

function npPort(v: unknown): Rec {
  if (!isRec(v)) give('a port is not a map');
  onlyKeys(v, PORT_KEYS, 'port');
  return present(v, (k, x) => {
    if (k === 'protocol') return str(v, k);
    if (k === 'endPort') return int32(x, k);
    if (typeof x === 'string') return x;
    return int32(x, 'port');
  });
}

function rules(v: unknown, keys: ReadonlySet<string>, peersKey: 'from' | 'to'): Rec[] {
  return mapped(list(v, 'rules') ?? [], (r) => {
    if (!isRec(r)) give('a rule is not a map');
    onlyKeys(r, keys, 'rule');
    return present(r, (k, x) => (k === 'ports' ? mapped(list(x, 'ports') ?? [], npPort) : mapped(list(x, peersKey) ?? [], peer)));
  });
}

export function npSpec(v: unknown): Rec {
  if (v === undefined || v === null) return {};
  if (!isRec(v)) give('spec is not a map');
  onlyKeys(v, SPEC_KEYS, 'spec');
  return present(v, (k, x) => {
    if (k === 'podSelector') return selector(x);
    if (k === 'ingress') return rules(x, INGRESS_KEYS, 'from');
    if (k === 'egress') return rules(x, EGRESS_KEYS, 'to');
    return strList(x, 'policyTypes');
  });
}

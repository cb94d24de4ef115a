/**
 * The `spec` schemas of the policy.networking.k8s.io CRDs (kubernetes-sigs/network-policy-api):
 * ClusterNetworkPolicy v1alpha2 (release v0.2.0, experimental channel: it adds `nodes` and `domainNames`
 * peers to the standard one) and AdminNetworkPolicy / BaselineAdminNetworkPolicy v1alpha1 (release
 * v0.1.8, experimental channel), transcribed field by field with their bounds and CEL rules.
 *
 * Design choice: we validate against the experimental channel, the superset: a manifest using an
 * experimental field is accepted here as a cluster with the experimental CRDs would accept it.
 */
import { parsePrefixStrict } from '../../ip/index.js';
import type { CelRule, Schema } from './schema.js';

const string: Schema = { type: 'string' };

const labelSelector: Schema = {
  type: 'object',
  properties: {
    matchLabels: { type: 'map', values: string },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        properties: { key: string, operator: string, values: { type: 'array', items: string } },
        required: ['key', 'operator'],
      },
    },
  },
};

/** `isCIDR(self)`: the Kubernetes CEL library parses with Go's netip.ParsePrefix and refuses IPv4-mapped IPv6. */
const isCIDR: CelRule = {
  rule: 'isCIDR(self)',
  message: 'Invalid CIDR format provided',
  holds: (self: string) => {
    const p = parsePrefixStrict(self);
    return p !== undefined && !p.ipv4Mapped;
  },
};

const cidr: Schema = { type: 'string', maxLength: 43, rules: [isCIDR] };

/** The DomainName pattern, as the CRD spells it (`A-z` included: it also admits `[\]^_` and the backquote). */
const DOMAIN_PATTERN = '^(\\*\\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.?$';
const domainName: Schema = { type: 'string', pattern: { text: DOMAIN_PATTERN, re: new RegExp(DOMAIN_PATTERN) } };

const port: Schema = { type: 'integer', minimum: 1, maximum: 65535 };

type Rec = Record<string, unknown>;
const has = (o: unknown, k: string): boolean => typeof o === 'object' && o !== null && Object.hasOwn(o, k);
const list = (o: unknown, k: string): unknown[] => (has(o, k) && Array.isArray((o as Rec)[k]) ? ((o as Rec)[k] as unknown[]) : []);

/** The egress rule's CEL rule: named ports only towards pods. `peers` are the peer kinds without named ports. */
function namedPortRule(peers: readonly string[], portsField: string, namedField: string): CelRule {
  const names = peers.join('/');
  return {
    rule: `!(self.to.exists(peer, ${peers.map((p) => `has(peer.${p})`).join(' || ')}) && has(self.${portsField}) && self.${portsField}.exists(port, has(port.${namedField})))`,
    message: `${names} peer cannot be set with namedPorts since there are no namedPorts for ${names}`,
    holds: (self: Rec) => !(list(self, 'to').some((peer) => peers.some((p) => has(peer, p))) && list(self, portsField).some((x) => has(x, namedField))),
  };
}

function namespacedPod(namespaceSelectorRequired: boolean): Schema {
  return {
    type: 'object',
    properties: { namespaceSelector: labelSelector, podSelector: labelSelector },
    required: namespaceSelectorRequired ? ['namespaceSelector', 'podSelector'] : ['podSelector'],
  };
}

function subject(pods: Schema): Schema {
  return { type: 'object', properties: { namespaces: labelSelector, pods }, minProperties: 1, maxProperties: 1 };
}

interface Dialect {
  readonly maxRules: number;
  readonly maxPeers: number;
  readonly ruleActions: readonly string[];
  readonly pods: Schema;
  readonly ports: { readonly field: string; readonly schema: Schema; readonly named: string };
  readonly egressPeerKinds: readonly string[];
}

function spec(d: Dialect, top: Record<string, Schema>, requiredTop: readonly string[]): Schema {
  const ingressPeer: Schema = { type: 'object', properties: { namespaces: labelSelector, pods: d.pods }, minProperties: 1, maxProperties: 1 };
  const egressProperties: Record<string, Schema> = { namespaces: labelSelector, pods: d.pods, networks: { type: 'array', items: cidr, minItems: 1, maxItems: 25, set: true }, nodes: labelSelector };
  if (d.egressPeerKinds.includes('domainNames')) egressProperties.domainNames = { type: 'array', items: domainName, minItems: 1, maxItems: 25, set: true };
  const egressPeer: Schema = { type: 'object', properties: egressProperties, minProperties: 1, maxProperties: 1 };
  const rule = (peersField: 'from' | 'to', peer: Schema, rules?: readonly CelRule[]): Schema => ({
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 100 },
      action: { type: 'string', enum: d.ruleActions },
      [peersField]: { type: 'array', items: peer, minItems: 1, maxItems: d.maxPeers },
      [d.ports.field]: { type: 'array', items: d.ports.schema, minItems: 1, maxItems: d.maxPeers },
    },
    required: ['action', peersField],
    ...(rules ? { rules } : {}),
  });
  return {
    type: 'object',
    properties: {
      ...top,
      subject: subject(d.pods),
      ingress: { type: 'array', items: rule('from', ingressPeer), maxItems: d.maxRules },
      egress: {
        type: 'array',
        items: rule('to', egressPeer, [
          namedPortRule(
            d.egressPeerKinds.filter((k) => k !== 'namespaces' && k !== 'pods'),
            d.ports.field,
            d.ports.named,
          ),
        ]),
        maxItems: d.maxRules,
      },
    },
    required: requiredTop,
  };
}

// --- ClusterNetworkPolicy v1alpha2 ----------------------------------------------------------------

/** `range`: "Start port must be less than End port". */
const portRange2: Schema = {
  type: 'object',
  properties: { start: port, end: port },
  required: ['end', 'start'],
  rules: [{ rule: 'self.start < self.end', message: 'Start port must be less than End port', holds: (self: { start: number; end: number }) => self.start < self.end }],
};

const destinationPort: Schema = { type: 'object', properties: { number: port, range: portRange2 }, minProperties: 1, maxProperties: 1 };
const protocolPorts: Schema = { type: 'object', properties: { destinationPort }, minProperties: 1 };

export const CNP_SPEC: Schema = spec(
  {
    maxRules: 25,
    maxPeers: 25,
    ruleActions: ['Accept', 'Deny', 'Pass'],
    pods: namespacedPod(false),
    ports: {
      field: 'protocols',
      named: 'destinationNamedPort',
      schema: { type: 'object', properties: { tcp: protocolPorts, udp: protocolPorts, sctp: protocolPorts, destinationNamedPort: string }, minProperties: 1, maxProperties: 1 },
    },
    egressPeerKinds: ['namespaces', 'pods', 'networks', 'nodes', 'domainNames'],
  },
  { tier: { type: 'string', enum: ['Admin', 'Baseline'] }, priority: { type: 'integer', minimum: 0, maximum: 1000 } },
  ['priority', 'subject', 'tier'],
);

// --- AdminNetworkPolicy / BaselineAdminNetworkPolicy v1alpha1 -------------------------------------

/** `protocol` defaults to TCP before validation; the CRD gives it no enum (v1.Protocol is a plain string). */
const protocol: Schema = { type: 'string', default: 'TCP' };
const anpPort: Schema = {
  type: 'object',
  properties: {
    portNumber: { type: 'object', properties: { protocol, port }, required: ['port', 'protocol'] },
    namedPort: string,
    portRange: { type: 'object', properties: { protocol, start: port, end: port }, required: ['end', 'start'] },
  },
  minProperties: 1,
  maxProperties: 1,
};

const v1alpha1 = (actions: readonly string[], egressPeerKinds: readonly string[]): Dialect => ({
  maxRules: 100,
  maxPeers: 100,
  ruleActions: actions,
  pods: namespacedPod(true),
  ports: { field: 'ports', named: 'namedPort', schema: anpPort },
  egressPeerKinds,
});

export const ANP_SPEC: Schema = spec(v1alpha1(['Allow', 'Deny', 'Pass'], ['namespaces', 'pods', 'networks', 'nodes', 'domainNames']), { priority: { type: 'integer', minimum: 0, maximum: 1000 } }, [
  'priority',
  'subject',
]);

export const BANP_SPEC: Schema = spec(v1alpha1(['Allow', 'Deny'], ['namespaces', 'pods', 'networks', 'nodes']), {}, ['subject']);

/** BaselineAdminNetworkPolicy's object-level rule. */
export const BANP_NAME_RULE = {
  rule: "self.metadata.name == 'default'",
  message: 'Only one baseline admin network policy with metadata.name="default" can be created in the cluster',
} as const;

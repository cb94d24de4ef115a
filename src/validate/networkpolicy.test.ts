import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Diagnostic } from '../diag/index.js';
import type { LabelSelector, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, ObjectMeta } from '../model/index.js';
import { cidrContains, formatCIDR, isIPv4MappedValue, maxAddress, parseCIDR, prefixMask } from '../ip/index.js';
import type { CIDR, Family } from '../ip/index.js';
import { NON_STANDARD_CIDR, cidrWarnings, goQuote, validateLabelSelector, validateNetworkPolicy } from './index.js';

// ---- builders ----

function policy(spec: Partial<NetworkPolicy['spec']> = {}, metadata: ObjectMeta = { name: 'np', namespace: 'default' }): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata, spec: { podSelector: {}, ...spec } };
}
const meta = (m: ObjectMeta): NetworkPolicy => policy({}, m);
const ingressPorts = (...ports: NetworkPolicyPort[]): NetworkPolicy => policy({ ingress: [{ ports }] });
const ingressFrom = (...from: NetworkPolicyPeer[]): NetworkPolicy => policy({ ingress: [{ from }] });
const ipBlock = (cidr: string, ...except: string[]): NetworkPolicy => ingressFrom({ ipBlock: except.length > 0 ? { cidr, except } : { cidr } });
const podSelector = (sel: LabelSelector): NetworkPolicy => policy({ podSelector: sel });

/** The part of a diagnostic the tests pin: severity, code, path and (a prefix of, or the exact) message. */
interface Want {
  /** Default 'error'. */
  severity?: 'error' | 'warning';
  code: string;
  path: string;
  /** Exact message. */
  message?: string;
  /** Substring of the message, when the exact text is long. */
  includes?: string;
}

function check(diags: readonly Diagnostic[], want: readonly Want[]): void {
  assert.equal(diags.length, want.length, `got ${JSON.stringify(diags, null, 1)}`);
  want.forEach((w, i) => {
    const d = diags[i] as Diagnostic;
    assert.equal(d.severity, w.severity ?? 'error', `diagnostic ${i} severity`);
    assert.equal(d.code, w.code, `diagnostic ${i} code`);
    assert.equal(d.path, w.path, `diagnostic ${i} path`);
    if (w.message !== undefined) assert.equal(d.message, w.message, `diagnostic ${i} message`);
    if (w.includes !== undefined) assert.ok(d.message.includes(w.includes), `diagnostic ${i}: ${d.message} should include ${w.includes}`);
  });
}

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const KEY_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const RANGE_MSG = 'must be between 1 and 65535, inclusive';
const BAD_CIDR_MSG = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

// ---- one invalid policy per rule ----

const invalidCases: [string, NetworkPolicy, Want[]][] = [
  // metadata
  ['name missing', meta({ namespace: 'default' }), [{ code: 'FieldValueRequired', path: 'metadata.name', message: 'Required value: name or generateName is required' }]],
  ['name not a DNS subdomain', meta({ name: 'Bad_Name' }), [{ code: 'FieldValueInvalid', path: 'metadata.name', message: `Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}` }]],
  ['name longer than 253', meta({ name: 'a'.repeat(254) }), [{ code: 'FieldValueInvalid', path: 'metadata.name', includes: ': must be no more than 253 characters' }]],
  [
    'generateName invalid (and no name: the server would generate one)',
    meta({ generateName: 'Web-' }),
    [{ code: 'FieldValueInvalid', path: 'metadata.generateName', message: `Invalid value: "Web-": ${SUBDOMAIN_MSG}` }],
  ],
  ['namespace with dots', meta({ name: 'np', namespace: 'team.a' }), [{ code: 'FieldValueInvalid', path: 'metadata.namespace', message: 'Invalid value: "team.a": must not contain dots' }]],
  ['namespace not a DNS label', meta({ name: 'np', namespace: 'Team' }), [{ code: 'FieldValueInvalid', path: 'metadata.namespace', message: `Invalid value: "Team": ${LABEL_MSG}` }]],
  ['label key invalid', meta({ name: 'np', labels: { '-app': 'web' } }), [{ code: 'FieldValueInvalid', path: 'metadata.labels', message: `Invalid value: "-app": ${KEY_NAME_MSG}` }]],
  [
    'label key with an empty prefix',
    meta({ name: 'np', labels: { '/app': 'web' } }),
    [{ code: 'FieldValueInvalid', path: 'metadata.labels', message: 'Invalid value: "/app": prefix part must be non-empty' }],
  ],
  [
    'label key with an invalid prefix',
    meta({ name: 'np', labels: { 'Example.com/app': 'web' } }),
    [{ code: 'FieldValueInvalid', path: 'metadata.labels', message: `Invalid value: "Example.com/app": prefix part ${SUBDOMAIN_MSG}` }],
  ],
  [
    'label key with two slashes',
    meta({ name: 'np', labels: { 'a/b/c': 'web' } }),
    [{ code: 'FieldValueInvalid', path: 'metadata.labels', includes: "a valid label key must consist of alphanumeric characters, '-', '_' or '.'" }],
  ],
  [
    'label key name part too long',
    meta({ name: 'np', labels: { ['k'.repeat(64)]: 'web' } }),
    [{ code: 'FieldValueInvalid', path: 'metadata.labels', includes: ': name part must be no more than 63 bytes' }],
  ],
  ['label value invalid', meta({ name: 'np', labels: { app: 'web_' } }), [{ code: 'FieldValueInvalid', path: 'metadata.labels', message: `Invalid value: "web_": ${LABEL_VALUE_MSG}` }]],
  [
    'label value too long (bytes, not characters)',
    meta({ name: 'np', labels: { app: 'é'.repeat(32) } }),
    [
      { code: 'FieldValueInvalid', path: 'metadata.labels', includes: ': must be no more than 63 bytes' },
      { code: 'FieldValueInvalid', path: 'metadata.labels', includes: 'a valid label must be an empty string' },
    ],
  ],
  [
    'annotation key invalid',
    meta({ name: 'np', annotations: { 'bad key': 'x' } }),
    [{ code: 'FieldValueInvalid', path: 'metadata.annotations', message: `Invalid value: "bad key": ${KEY_NAME_MSG}` }],
  ],
  [
    'annotations too large',
    meta({ name: 'np', annotations: { big: 'x'.repeat(256 * 1024) } }),
    [{ code: 'FieldValueTooLong', path: 'metadata.annotations', message: 'Too long: must have at most 262144 bytes' }],
  ],
  // netpol's mode annotation (netpol's own rule)
  ['mode audit', meta({ name: 'np', annotations: { 'netpol.dev/mode': 'audit' } }), []],
  ['mode enforce', meta({ name: 'np', annotations: { 'netpol.dev/mode': 'enforce' } }), []],
  [
    'mode neither audit nor enforce',
    meta({ name: 'np', annotations: { 'netpol.dev/mode': 'Audit' } }),
    [{ code: 'FieldValueNotSupported', path: 'metadata.annotations[netpol.dev/mode]', message: 'Unsupported value: "Audit": supported values: "audit", "enforce"' }],
  ],
  // label selectors
  [
    'podSelector matchLabels value invalid',
    podSelector({ matchLabels: { app: '-web' } }),
    [{ code: 'FieldValueInvalid', path: 'spec.podSelector.matchLabels', message: `Invalid value: "-web": ${LABEL_VALUE_MSG}` }],
  ],
  [
    'matchExpressions In without values',
    podSelector({ matchExpressions: [{ key: 'app', operator: 'In' }] }),
    [
      {
        code: 'FieldValueRequired',
        path: 'spec.podSelector.matchExpressions[0].values',
        message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
      },
    ],
  ],
  [
    'matchExpressions NotIn with empty values',
    podSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: [] }] }),
    [{ code: 'FieldValueRequired', path: 'spec.podSelector.matchExpressions[0].values' }],
  ],
  [
    'matchExpressions Exists with values',
    podSelector({ matchExpressions: [{ key: 'app', operator: 'Exists', values: ['web'] }] }),
    [
      {
        code: 'FieldValueForbidden',
        path: 'spec.podSelector.matchExpressions[0].values',
        message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      },
    ],
  ],
  [
    'matchExpressions unknown operator',
    podSelector({ matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] }),
    [{ code: 'FieldValueInvalid', path: 'spec.podSelector.matchExpressions[0].operator', message: 'Invalid value: "Equals": not a valid selector operator' }],
  ],
  [
    'matchExpressions key invalid',
    podSelector({ matchExpressions: [{ key: 'app!', operator: 'Exists' }] }),
    [{ code: 'FieldValueInvalid', path: 'spec.podSelector.matchExpressions[0].key', message: `Invalid value: "app!": ${KEY_NAME_MSG}` }],
  ],
  [
    'matchExpressions value invalid',
    podSelector({ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'a b'] }] }),
    [{ code: 'FieldValueInvalid', path: 'spec.podSelector.matchExpressions[0].values[1]', message: `Invalid value: "a b": ${LABEL_VALUE_MSG}` }],
  ],
  // ports
  [
    'protocol unsupported',
    ingressPorts({ protocol: 'ICMP', port: 80 }),
    [
      {
        code: 'FieldValueNotSupported',
        path: 'spec.ingress[0].ports[0].protocol',
        message: 'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
      },
    ],
  ],
  ['protocol is case-sensitive', ingressPorts({ protocol: 'tcp' }), [{ code: 'FieldValueNotSupported', path: 'spec.ingress[0].ports[0].protocol' }]],
  ['protocol empty string', ingressPorts({ protocol: '' }), [{ code: 'FieldValueNotSupported', path: 'spec.ingress[0].ports[0].protocol', includes: 'Unsupported value: "":' }]],
  ['port 0', ingressPorts({ port: 0 }), [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].port', message: `Invalid value: 0: ${RANGE_MSG}` }]],
  ['port 65536', ingressPorts({ port: 65536 }), [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].port', message: `Invalid value: 65536: ${RANGE_MSG}` }]],
  [
    'named port with upper case',
    ingressPorts({ port: 'HTTP' }),
    [
      {
        code: 'FieldValueInvalid',
        path: 'spec.ingress[0].ports[0].port',
        message: 'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      },
      { code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].port', message: 'Invalid value: "HTTP": must contain at least one letter (a-z)' },
    ],
  ],
  [
    'named port that is a number in a string',
    ingressPorts({ port: '80' }),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].port', message: 'Invalid value: "80": must contain at least one letter (a-z)' }],
  ],
  [
    'named port with consecutive hyphens',
    ingressPorts({ port: 'web--api' }),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].port', message: 'Invalid value: "web--api": must not contain consecutive hyphens' }],
  ],
  [
    'named port starting with a hyphen',
    ingressPorts({ port: '-web' }),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].port', message: 'Invalid value: "-web": must not begin or end with a hyphen' }],
  ],
  [
    'named port longer than 15',
    ingressPorts({ port: 'abcdefghijklmnop' }),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].port', message: 'Invalid value: "abcdefghijklmnop": must be no more than 15 characters' }],
  ],
  [
    'endPort below port',
    ingressPorts({ port: 8080, endPort: 80 }),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].endPort', message: 'Invalid value: 80: must be greater than or equal to `port`' }],
  ],
  ['endPort out of range', ingressPorts({ port: 80, endPort: 70000 }), [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].endPort', message: `Invalid value: 70000: ${RANGE_MSG}` }]],
  [
    'endPort 0 is both below port and out of range',
    ingressPorts({ port: 80, endPort: 0 }),
    [
      { code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].endPort', message: 'Invalid value: 0: must be greater than or equal to `port`' },
      { code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].endPort', message: `Invalid value: 0: ${RANGE_MSG}` },
    ],
  ],
  [
    'endPort with a named port',
    ingressPorts({ port: 'http', endPort: 90 }),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].endPort', message: 'Invalid value: 90: may not be specified when `port` is non-numeric' }],
  ],
  [
    'endPort without port',
    ingressPorts({ protocol: 'UDP', endPort: 90 }),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[0].endPort', message: 'Invalid value: 90: may not be specified when `port` is not specified' }],
  ],
  // peers
  ['peer with nothing in it', ingressFrom({}), [{ code: 'FieldValueRequired', path: 'spec.ingress[0].from[0]', message: 'Required value: must specify a peer' }]],
  [
    'ipBlock together with a selector',
    ingressFrom({ podSelector: {}, ipBlock: { cidr: '10.0.0.0/8' } }),
    [{ code: 'FieldValueForbidden', path: 'spec.ingress[0].from[0]', message: 'Forbidden: may not specify both ipBlock and another peer' }],
  ],
  [
    'peer selector problems carry the peer path',
    ingressFrom({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In' }] } }),
    [{ code: 'FieldValueRequired', path: 'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values' }],
  ],
  ['egress peer', policy({ egress: [{ to: [{}] }] }), [{ code: 'FieldValueRequired', path: 'spec.egress[0].to[0]', message: 'Required value: must specify a peer' }]],
  ['egress port', policy({ egress: [{ ports: [{ port: 0 }] }] }), [{ code: 'FieldValueInvalid', path: 'spec.egress[0].ports[0].port', message: `Invalid value: 0: ${RANGE_MSG}` }]],
  // ipBlock
  ['ipBlock cidr empty', ipBlock(''), [{ code: 'FieldValueRequired', path: 'spec.ingress[0].from[0].ipBlock.cidr', message: 'Required value' }]],
  ['ipBlock cidr without prefix', ipBlock('10.0.0.0'), [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.cidr', message: `Invalid value: "10.0.0.0": ${BAD_CIDR_MSG}` }]],
  ['ipBlock cidr prefix too long', ipBlock('10.0.0.0/33'), [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.cidr', message: `Invalid value: "10.0.0.0/33": ${BAD_CIDR_MSG}` }]],
  [
    'except outside cidr',
    ipBlock('10.0.0.0/16', '10.1.0.0/24'),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.except[0]', message: 'Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`' }],
  ],
  [
    'except equal to cidr',
    ipBlock('10.0.0.0/16', '10.0.0.0/24', '10.0.0.0/16'),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.except[1]', message: 'Invalid value: "10.0.0.0/16": must be a strict subset of `cidr`' }],
  ],
  [
    'except of the other family',
    ipBlock('2001:db8::/32', '10.0.0.0/8'),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.except[0]', message: 'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`' }],
  ],
  ['except that does not parse', ipBlock('10.0.0.0/8', 'nope'), [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.except[0]', message: `Invalid value: "nope": ${BAD_CIDR_MSG}` }]],
  ['cidr that does not parse: excepts are not looked at', ipBlock('10.0.0.0/40', 'nope'), [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.cidr' }]],
  [
    'IPv4-mapped cidr compares mask sizes as written (Go Mask.Size())',
    ipBlock('::ffff:10.0.0.0/104', '10.1.0.0/16'),
    [
      { severity: 'warning', code: NON_STANDARD_CIDR, path: 'spec.ingress[0].from[0].ipBlock.cidr', includes: 'use "10.0.0.0/8"' },
      { code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.except[0]', includes: 'must be a strict subset of `cidr`' },
    ],
  ],
  [
    'except with host bits outside cidr: the error, and no warning for it',
    ipBlock('10.0.0.0/16', '10.1.0.1/24'),
    [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.except[0]', message: 'Invalid value: "10.1.0.1/24": must be a strict subset of `cidr`' }],
  ],
  // policyTypes
  [
    'more than two policyTypes',
    policy({ policyTypes: ['Ingress', 'Egress', 'Ingress'] }),
    [
      {
        code: 'FieldValueInvalid',
        path: 'spec.policyTypes',
        message: 'Invalid value: []networking.PolicyType{"Ingress", "Egress", "Ingress"}: may not specify more than two policyTypes',
      },
    ],
  ],
  [
    'unknown policyType',
    policy({ policyTypes: ['Ingress', 'egress'] }),
    [{ code: 'FieldValueNotSupported', path: 'spec.policyTypes[1]', message: 'Unsupported value: "egress": supported values: "Ingress", "Egress"' }],
  ],
];

describe('validateNetworkPolicy: one invalid policy per rule', () => {
  for (const [name, np, want] of invalidCases) {
    test(name, () => check(validateNetworkPolicy(np), want));
  }
});

// ---- valid policies ----

const web: LabelSelector = { matchLabels: { app: 'web' } };
const validCases: [string, NetworkPolicy][] = [
  ['default deny ingress', policy({ policyTypes: ['Ingress'] })],
  ['default deny both', policy({ policyTypes: ['Ingress', 'Egress'] })],
  ['allow all ingress', policy({ ingress: [{}] })],
  ['empty rule lists', policy({ ingress: [], egress: [], policyTypes: [] })],
  ['duplicate policyTypes are accepted', policy({ policyTypes: ['Egress', 'Egress'] })],
  [
    'typical ingress with selectors and ports',
    policy({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db', ''] }] },
      ingress: [
        {
          from: [
            { podSelector: web },
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: {} },
            { namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] } },
          ],
          ports: [{ port: 80 }, { protocol: 'UDP', port: 53 }, { protocol: 'SCTP' }, { port: 'http-alt' }, { port: 32000, endPort: 32768 }, { port: 65535, endPort: 65535 }],
        },
      ],
    }),
  ],
  [
    'egress to IP blocks of both families',
    policy({
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } },
            { ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } },
            { ipBlock: { cidr: '2001:db8:0:1::/64' } },
            { ipBlock: { cidr: '192.168.1.1/32' } },
          ],
        },
      ],
    }),
  ],
  ['generateName only', meta({ generateName: 'allow-web-', namespace: 'prod' })],
  ['namespace absent counts as default', meta({ name: 'np' })],
  [
    'labels and annotations',
    meta({
      name: 'allow.web',
      namespace: 'team-a',
      labels: { 'example.com/owner': 'team_a', empty: '' },
      annotations: { 'Example.com/Note': 'anything goes here: ✓', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    }),
  ],
];

describe('validateNetworkPolicy: valid policies', () => {
  for (const [name, np] of validCases) {
    test(name, () => assert.deepEqual(validateNetworkPolicy(np), []));
  }
});

// ---- everything at once ----

describe('validateNetworkPolicy: reports every problem', () => {
  test('problems in metadata, selectors, rules and policyTypes all come back, in API-server order', () => {
    const np = policy(
      {
        podSelector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] },
        ingress: [
          { ports: [{ protocol: 'ICMP' }, { port: 0 }], from: [{}, { ipBlock: { cidr: '10.0.0.1/8' }, namespaceSelector: {} }] },
          { from: [{ podSelector: { matchLabels: { ok: 'bad value' } } }] },
        ],
        egress: [{ ports: [{ endPort: 5 }], to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/8'] } }] }],
        policyTypes: ['Sideways'],
      },
      { name: 'Bad', namespace: 'a.b', labels: { x: '-' } },
    );
    check(validateNetworkPolicy(np), [
      { code: 'FieldValueInvalid', path: 'metadata.name' },
      { code: 'FieldValueInvalid', path: 'metadata.namespace' },
      { code: 'FieldValueInvalid', path: 'metadata.labels' },
      { code: 'FieldValueInvalid', path: 'spec.podSelector.matchExpressions[0].operator' },
      { code: 'FieldValueNotSupported', path: 'spec.ingress[0].ports[0].protocol' },
      { code: 'FieldValueInvalid', path: 'spec.ingress[0].ports[1].port' },
      { code: 'FieldValueRequired', path: 'spec.ingress[0].from[0]' },
      { severity: 'warning', code: NON_STANDARD_CIDR, path: 'spec.ingress[0].from[1].ipBlock.cidr' },
      { code: 'FieldValueForbidden', path: 'spec.ingress[0].from[1]' },
      { code: 'FieldValueInvalid', path: 'spec.ingress[1].from[0].podSelector.matchLabels' },
      { code: 'FieldValueInvalid', path: 'spec.egress[0].ports[0].endPort' },
      { code: 'FieldValueInvalid', path: 'spec.egress[0].to[0].ipBlock.except[0]' },
      { code: 'FieldValueNotSupported', path: 'spec.policyTypes[0]' },
    ]);
  });

  test('identical path+message pairs are reported once', () => {
    const diags = validateNetworkPolicy(meta({ name: 'np', labels: { a: '-', b: '-' } }));
    check(diags, [{ code: 'FieldValueInvalid', path: 'metadata.labels', message: `Invalid value: "-": ${LABEL_VALUE_MSG}` }]);
  });

  test('rules reached through ingress and egress are both validated', () => {
    const rule: NetworkPolicyIngressRule & NetworkPolicyEgressRule = { ports: [{ port: 'X' }] };
    const diags = validateNetworkPolicy(policy({ ingress: [rule], egress: [rule] }));
    assert.deepEqual([...new Set(diags.map((d) => d.path))], ['spec.ingress[0].ports[0].port', 'spec.egress[0].ports[0].port']);
  });
});

// ---- non-standard CIDRs: warnings by default, errors with StrictIPCIDRValidation ----

const CIDR_PATH = 'spec.ingress[0].from[0].ipBlock.cidr';
const EXCEPT_PATH = (i: number): string => `spec.ingress[0].from[0].ipBlock.except[${i}]`;
const warn = (path: string, message: string): Want => ({ severity: 'warning', code: NON_STANDARD_CIDR, path, message });
const ambiguous = (value: string, network: string, single: string): string => `CIDR value "${value}" is ambiguous in this context (should be "${network}" or "${single}"?)`;
const nonStandard = (value: string, use: string): string => `non-standard CIDR value "${value}" will be considered invalid in a future Kubernetes release: use "${use}"`;
const notCanonical = (value: string, canonical: string): string => `IPv6 CIDR value "${value}" should be in RFC 5952 canonical format ("${canonical}")`;

/** Each value alone as ipBlock.cidr: the GetWarningsForCIDR messages a default API server returns. */
const warningCases: [string, string[]][] = [
  ['172.17.0.1/24', [ambiguous('172.17.0.1/24', '172.17.0.0/24', '172.17.0.1/32')]],
  ['10.0.0.1/8', [ambiguous('10.0.0.1/8', '10.0.0.0/8', '10.0.0.1/32')]],
  ['010.0.0.0/8', [nonStandard('010.0.0.0/8', '10.0.0.0/8')]],
  ['10.0.0.0/08', [nonStandard('10.0.0.0/08', '10.0.0.0/8')]],
  ['010.0.0.1/08', [ambiguous('010.0.0.1/08', '10.0.0.0/8', '10.0.0.1/32'), nonStandard('010.0.0.1/08', '10.0.0.0/8')]],
  ['::ffff:10.0.0.0/104', [nonStandard('::ffff:10.0.0.0/104', '10.0.0.0/8')]],
  // The single-address reading keeps the written (IPv6) mask size, as Go's Mask.Size() does.
  ['::ffff:1.2.3.4/120', [ambiguous('::ffff:1.2.3.4/120', '1.2.3.0/24', '1.2.3.4/128'), nonStandard('::ffff:1.2.3.4/120', '1.2.3.0/24')]],
  ['::ffff:0:0/96', [nonStandard('::ffff:0:0/96', '0.0.0.0/0')]],
  ['::ffff:1.2.3.4/64', [ambiguous('::ffff:1.2.3.4/64', '::/64', '1.2.3.4/128'), nonStandard('::ffff:1.2.3.4/64', '::/64')]],
  ['2001:db8::1/64', [ambiguous('2001:db8::1/64', '2001:db8::/64', '2001:db8::1/128')]],
  ['2001:DB8:0:0::/64', [notCanonical('2001:DB8:0:0::/64', '2001:db8::/64')]],
  ['2001:0db8::/32', [notCanonical('2001:0db8::/32', '2001:db8::/32')]],
  ['2001:db8:0:0:0:0:0:0/32', [notCanonical('2001:db8:0:0:0:0:0:0/32', '2001:db8::/32')]],
  // Host bits already imply a different text: no separate RFC 5952 warning.
  ['2001:DB8::1/64', [ambiguous('2001:DB8::1/64', '2001:db8::/64', '2001:db8::1/128')]],
  ['0002001:db8::/32', [nonStandard('0002001:db8::/32', '2001:db8::/32')]],
  // Standard values, and values that do not parse (an error, not a warning).
  ['10.0.0.0/8', []],
  ['2001:db8::/32', []],
  ['::/0', []],
  ['1.2.3.4/32', []],
  ['nope', []],
  ['10.0.0.0/33', []],
];

describe('non-standard CIDRs (StrictIPCIDRValidation off, the default)', () => {
  for (const [value, messages] of warningCases) {
    test(`cidrWarnings(${JSON.stringify(value)})`, () => {
      check(
        cidrWarnings(value, CIDR_PATH),
        messages.map((m) => warn(CIDR_PATH, m)),
      );
    });
  }

  test('the seed: excepts with host bits are accepted, with one warning each, and mean their networks', () => {
    const np = ipBlock('172.17.0.0/16', '172.17.0.1/24', '172.17.0.2/24', '172.17.0.3/24');
    check(validateNetworkPolicy(np), [
      warn(EXCEPT_PATH(0), ambiguous('172.17.0.1/24', '172.17.0.0/24', '172.17.0.1/32')),
      warn(EXCEPT_PATH(1), ambiguous('172.17.0.2/24', '172.17.0.0/24', '172.17.0.2/32')),
      warn(EXCEPT_PATH(2), ambiguous('172.17.0.3/24', '172.17.0.0/24', '172.17.0.3/32')),
    ]);
    assert.deepEqual(validateNetworkPolicy(np, { strictIPCIDR: false }), validateNetworkPolicy(np));
  });

  test('leading zeros, host bits and IPv4-mapped values are accepted with warnings', () => {
    check(validateNetworkPolicy(ipBlock('010.0.0.1/08', '10.1.0.0/16', '::ffff:10.2.0.0/112')), [
      warn(CIDR_PATH, ambiguous('010.0.0.1/08', '10.0.0.0/8', '10.0.0.1/32')),
      warn(CIDR_PATH, nonStandard('010.0.0.1/08', '10.0.0.0/8')),
      warn(EXCEPT_PATH(1), nonStandard('::ffff:10.2.0.0/112', '10.2.0.0/16')),
    ]);
  });

  test('cidr and except warnings follow the value, ingress and egress alike', () => {
    const np = policy({
      ingress: [{ from: [{ podSelector: {} }, { ipBlock: { cidr: '10.0.0.1/8', except: ['10.1.0.0/16', '10.2.0.1/16'] } }] }],
      egress: [{ to: [{ ipBlock: { cidr: '2001:DB8::/32', except: ['2001:db8::1/48'] } }] }],
    });
    check(validateNetworkPolicy(np), [
      warn('spec.ingress[0].from[1].ipBlock.cidr', ambiguous('10.0.0.1/8', '10.0.0.0/8', '10.0.0.1/32')),
      warn('spec.ingress[0].from[1].ipBlock.except[1]', ambiguous('10.2.0.1/16', '10.2.0.0/16', '10.2.0.1/32')),
      warn('spec.egress[0].to[0].ipBlock.cidr', notCanonical('2001:DB8::/32', '2001:db8::/32')),
      warn('spec.egress[0].to[0].ipBlock.except[0]', ambiguous('2001:db8::1/48', '2001:db8::/48', '2001:db8::1/128')),
    ]);
  });

  test('a value with an error gets no warning', () => {
    check(validateNetworkPolicy(ipBlock('10.0.0.0/8', '10.0.0.1/8', '11.0.0.1/16')), [
      { code: 'FieldValueInvalid', path: EXCEPT_PATH(0), message: 'Invalid value: "10.0.0.1/8": must be a strict subset of `cidr`' },
      { code: 'FieldValueInvalid', path: EXCEPT_PATH(1), message: 'Invalid value: "11.0.0.1/16": must be a strict subset of `cidr`' },
    ]);
    check(validateNetworkPolicy(ipBlock('10.0.0.0/8', '10.0.0.0/8')), [{ code: 'FieldValueInvalid', path: EXCEPT_PATH(0), includes: 'strict subset' }]);
  });
});

describe('non-standard CIDRs with StrictIPCIDRValidation on', () => {
  const strict = { strictIPCIDR: true } as const;
  const strictCases: [string, string][] = [
    ['10.0.0.1/8', 'must not have bits set beyond the prefix length'],
    ['010.0.0.0/8', 'must not have leading 0s in IP or prefix length'],
    ['10.0.0.0/08', 'must not have leading 0s in IP or prefix length'],
    ['::ffff:10.0.0.0/104', 'must not have an IPv4-mapped IPv6 address'],
    ['::ffff:1.2.3.4/120', 'must not have an IPv4-mapped IPv6 address'],
    ['2001:db8::1/64', 'must not have bits set beyond the prefix length'],
  ];
  for (const [value, detail] of strictCases) {
    test(`${value} is an error, without a warning`, () => {
      check(validateNetworkPolicy(ipBlock(value), strict), [{ code: 'FieldValueInvalid', path: CIDR_PATH, message: `Invalid value: "${value}": ${detail}` }]);
    });
  }

  test('the seed is rejected', () => {
    const np = ipBlock('172.17.0.0/16', '172.17.0.1/24', '172.17.0.2/24', '172.17.0.3/24');
    check(
      validateNetworkPolicy(np, strict),
      [0, 1, 2].map((i) => ({
        code: 'FieldValueInvalid',
        path: EXCEPT_PATH(i),
        message: `Invalid value: "172.17.0.${i + 1}/24": must not have bits set beyond the prefix length`,
      })),
    );
  });

  test('except with host bits inside cidr: only the strict error', () => {
    check(validateNetworkPolicy(ipBlock('10.0.0.0/8', '10.1.0.1/16'), strict), [
      { code: 'FieldValueInvalid', path: EXCEPT_PATH(0), message: 'Invalid value: "10.1.0.1/16": must not have bits set beyond the prefix length' },
    ]);
  });

  test('a valid but non-canonical IPv6 value is still only a warning', () => {
    check(validateNetworkPolicy(ipBlock('2001:DB8:0:0::/64'), strict), [warn(CIDR_PATH, notCanonical('2001:DB8:0:0::/64', '2001:db8::/64'))]);
  });
});

describe('non-standard CIDR properties', () => {
  // CIDR texts the sloppy parser accepts: IPv4 octets and prefix lengths with optional leading zeros,
  // IPv4-mapped IPv6, IPv6 in canonical or upper case, any host bits.
  const octet = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })).map(([n, zeros]) => '0'.repeat(zeros) + String(n));
  const prefixText = (max: number): fc.Arbitrary<string> => fc.tuple(fc.integer({ min: 0, max }), fc.boolean()).map(([n, zero]) => (zero ? `0${n}` : String(n)));
  const v4 = fc.tuple(fc.array(octet, { minLength: 4, maxLength: 4 }), prefixText(32)).map(([o, p]) => `${o.join('.')}/${p}`);
  const mapped = fc.tuple(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), prefixText(128)).map(([o, p]) => `::ffff:${o.join('.')}/${p}`);
  const v6 = fc.tuple(fc.bigInt({ min: 0n, max: maxAddress(6) }), fc.integer({ min: 0, max: 128 }), fc.boolean(), fc.boolean()).map(([value, prefix, masked, upper]) => {
    const text = formatCIDR({ family: 6, base: masked ? value & prefixMask(6, prefix) : value, prefix });
    return upper ? text.toUpperCase() : text;
  });
  const value = fc.oneof(v4, mapped, v6);

  test('a value is rejected under the gate exactly when it is ambiguous or non-standard without it', () => {
    fc.assert(
      fc.property(value, (text) => {
        const lenient = validateNetworkPolicy(ipBlock(text));
        assert.ok(
          lenient.every((d) => d.severity === 'warning' && d.code === NON_STANDARD_CIDR && d.path === CIDR_PATH),
          JSON.stringify(lenient),
        );
        const rejecting = lenient.filter((d) => !d.message.startsWith('IPv6 CIDR value '));
        const strict = validateNetworkPolicy(ipBlock(text), { strictIPCIDR: true });
        if (rejecting.length > 0) check(strict, [{ code: 'FieldValueInvalid', path: CIDR_PATH }]);
        else assert.deepEqual(strict, lenient);
      }),
    );
  });

  test('the suggested network is standard and means the same addresses', () => {
    fc.assert(
      fc.property(value, (text) => {
        for (const d of validateNetworkPolicy(ipBlock(text))) {
          const suggested = /(?:should be |use |canonical format \()"([^"]+)"/.exec(d.message)?.[1];
          assert.ok(suggested !== undefined, d.message);
          assert.deepEqual(validateNetworkPolicy(ipBlock(suggested), { strictIPCIDR: true }), []);
          assert.deepEqual(parseCIDR(suggested), parseCIDR(text));
        }
      }),
    );
  });
});

describe('validateLabelSelector', () => {
  test('uses the path it is given', () => {
    check(validateLabelSelector({ matchLabels: { 'a b': 'c' }, matchExpressions: [{ key: 'k', operator: 'Exists', values: ['v'] }] }, 'spec.selector'), [
      { code: 'FieldValueInvalid', path: 'spec.selector.matchLabels', includes: 'Invalid value: "a b": name part' },
      { code: 'FieldValueForbidden', path: 'spec.selector.matchExpressions[0].values' },
    ]);
  });
  test('an empty selector is valid', () => assert.deepEqual(validateLabelSelector({}, 'spec.podSelector'), []));
});

describe('goQuote (Go %q)', () => {
  test('escapes like strconv.Quote', () => {
    assert.equal(goQuote('plain'), '"plain"');
    assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(goQuote('\n\t\r\u0007\u0008\u000b\u000c'), '"\\n\\t\\r\\a\\b\\v\\f"');
    assert.equal(goQuote('\u0000\u001f\u007f'), '"\\x00\\x1f\\x7f"');
    assert.equal(goQuote('é ✓ 😀'), '"é ✓ 😀"');
    assert.equal(goQuote('\u200b\u00a0'), '"\\u200b\\u00a0"');
    assert.equal(goQuote('\u{e0001}'), '"\\U000e0001"');
  });
});

describe('ipBlock properties', () => {
  const fam = fc.constantFrom<Family>(4, 6);
  const network = fam.chain((f) =>
    fc
      .record({
        value: fc.bigInt({ min: 0n, max: maxAddress(f) }),
        prefix: fc.integer({ min: 0, max: f === 4 ? 32 : 128 }),
      })
      .map(({ value, prefix }): CIDR => ({ family: f, base: value & prefixMask(f, prefix), prefix }))
      .filter((c) => !(c.family === 6 && c.prefix >= 96 && isIPv4MappedValue(c.base))),
  );

  test('canonical CIDRs are valid, and an except is accepted exactly when it is a strict subset', () => {
    fc.assert(
      fc.property(network, network, (outer, inner) => {
        const diags = validateNetworkPolicy(ipBlock(formatCIDR(outer), formatCIDR(inner)));
        const strictSubset = outer.family === inner.family && inner.prefix > outer.prefix && cidrContains(outer, { family: inner.family, value: inner.base });
        if (strictSubset) assert.deepEqual(diags, []);
        else check(diags, [{ code: 'FieldValueInvalid', path: 'spec.ingress[0].from[0].ipBlock.except[0]', includes: 'strict subset' }]);
      }),
    );
  });

  test('a random sub-network of a cidr is a valid except', () => {
    fc.assert(
      fc.property(network, fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.nat(128), (outer, raw, extra) => {
        const bits = outer.family === 4 ? 32 : 128;
        if (outer.prefix === bits) return;
        const prefix = outer.prefix + 1 + (extra % (bits - outer.prefix));
        const host = raw & (maxAddress(outer.family) ^ prefixMask(outer.family, outer.prefix));
        const inner: CIDR = { family: outer.family, base: (outer.base | host) & prefixMask(outer.family, prefix), prefix };
        if (inner.family === 6 && inner.prefix >= 96 && isIPv4MappedValue(inner.base)) return;
        assert.deepEqual(validateNetworkPolicy(ipBlock(formatCIDR(outer), formatCIDR(inner))), []);
      }),
    );
  });
});

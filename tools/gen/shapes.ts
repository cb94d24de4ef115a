/**
 * Generated clusters for scale tests and benchmarks: named shapes (SHAPE_DESCRIPTIONS), as Kubernetes objects
 * (Namespace, Pod with `status.podIP` and container ports on `spec.nodeName`, NetworkPolicy).
 *
 * Design choice: every shape is a pure function of (seed, scale), built from a seeded generator, so a
 * benchmark run is reproducible byte for byte. `scale` multiplies the shape's size (namespaces, or pods
 * and policies for the one-namespace shapes) so tests can use small versions of the same structure;
 * scale 1 is the size docs/benchmarks.md reports. Pods get addresses from per-node /24s of 10.0.0.0/8 (and
 * fd00:10::/32 for dual-stack pods), which makes ipBlock `except` entries cut real groups of pods.
 */
import type { LabelSelector, Namespace, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, Pod } from '../../src/model/index.js';
import { random } from './random.js';
import { Builder, hash, nodeSubnet, pad, sized, tcp, type PodPort } from './builder.js';
import { adversarial, mixed } from './mixed.js';

/** Changes whenever a shape's output changes, so cached manifests are generated again. */
export const GENERATOR_VERSION = 4;

export const SHAPES = ['small-ns', 'one-ns-overlap', 'pairs', 'cross-ns', 'realistic', 'max', 'mixed', 'adversarial'] as const;
export type ShapeName = (typeof SHAPES)[number];

export function isShapeName(s: string): s is ShapeName {
  return (SHAPES as readonly string[]).includes(s);
}

export interface GenOptions {
  /** Default 1. */
  readonly seed?: number;
  /** Size factor, default 1 (the sizes docs/benchmarks.md reports). Counts are rounded and kept at least 1 (2 where a shape needs two). */
  readonly scale?: number;
}

export interface GeneratedObjects {
  readonly shape: ShapeName;
  readonly seed: number;
  readonly scale: number;
  readonly namespaces: Namespace[];
  readonly pods: Pod[];
  readonly policies: NetworkPolicy[];
}

export const SHAPE_DESCRIPTIONS: Readonly<Record<ShapeName, string>> = {
  'small-ns': '25,000 namespaces x 4 pods, each namespace with a default-deny and 2 label-based allow policies',
  'one-ns-overlap': '1 namespace, 10,000 pods, 10,000 policies that all select every pod',
  pairs: '1 namespace, 10,000 pods, 10,000 policies each admitting one distinct peer pod',
  'cross-ns': '1,000 namespaces x 100 pods, 10 policies per namespace with peers from 10 other namespaces (namespaceSelector)',
  realistic: '~5,400 pods, 600 namespaces, ~13,700 policies in a realistic mix',
  max: '150,000 pods in 10,000 namespaces, 3 policies per namespace, 1% cross-namespace policies',
  mixed: '50,000 pods in 2,000 namespaces, 10,000 policies: every feature mixed, selectors across namespaces',
  adversarial: '50,000 pods each its own class in 500 namespaces, 10,000 policies with overlapping selectors and many ipBlocks',
};

export function generateObjects(shape: ShapeName, opts: GenOptions = {}): GeneratedObjects {
  const seed = opts.seed ?? 1;
  const scale = opts.scale ?? 1;
  const b = new Builder(random(seed ^ hash(shape)));
  GENERATORS[shape](b, scale);
  return { shape, seed, scale, namespaces: b.namespaces, pods: b.pods, policies: b.policies };
}

// --- shapes ---------------------------------------------------------------------------------------------

const GENERATORS: Record<ShapeName, (b: Builder, scale: number) => void> = {
  /** Many tiny namespaces: analysis cost is dominated by the number of namespaces and policies. */
  'small-ns': (b, scale) => {
    const nsCount = sized(25_000, scale);
    b.planPods(nsCount * 4);
    const apps = [
      { app: 'web', tier: 'frontend', ports: [{ name: 'http', containerPort: 8080 }] },
      {
        app: 'api',
        tier: 'backend',
        ports: [
          { name: 'http', containerPort: 8000 },
          { name: 'metrics', containerPort: 9090 },
        ],
      },
      { app: 'worker', tier: 'backend', ports: [{ name: 'metrics', containerPort: 9090 }] },
      { app: 'db', tier: 'data', ports: [{ name: 'postgres', containerPort: 5432 }] },
    ];
    for (let n = 0; n < nsCount; n++) {
      const ns = `sn-${pad(n, 5)}`;
      b.namespace(ns, { team: `team-${n % 50}`, env: ['prod', 'staging', 'dev'][n % 3]! });
      for (const a of apps) b.pod(ns, `${a.app}-${b.suffix(5)}`, { app: a.app, tier: a.tier }, a.ports);
      b.policy(ns, 'default-deny', {}, { policyTypes: ['Ingress'] });
      b.policy(ns, 'allow-web-to-api', { matchLabels: { app: 'api' } }, { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [tcp('http')] }] });
      b.policy(
        ns,
        'allow-backend-to-db',
        { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] },
        { ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'backend' } } }], ports: [tcp(5432)] }] },
      );
    }
  },

  /** Every policy selects every pod: the cost is in unioning many rules for one group of subjects. */
  'one-ns-overlap': (b, scale) => {
    const pods = sized(10_000, scale);
    const policies = sized(10_000, scale);
    const ns = 'overlap';
    b.namespace(ns, { env: 'prod' });
    b.planPods(pods);
    const apps = Math.max(1, Math.min(100, Math.round(pods / 100)));
    for (let i = 0; i < pods; i++) {
      const app = `app-${i % apps}`;
      b.pod(ns, `${app}-${b.suffix(8)}`, { app, version: `v${i % 3}`, 'app.kubernetes.io/part-of': 'shop' }, [
        { name: 'http', containerPort: i % 2 ? 8080 : 80 },
        { name: 'metrics', containerPort: 9090 },
      ]);
    }
    const subjects: LabelSelector[] = [{}, { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } }, { matchExpressions: [{ key: 'app', operator: 'Exists' }] }];
    const portChoices: NetworkPolicyPort[][] = [[tcp(80)], [tcp(443)], [tcp('http')], [tcp('metrics')], [tcp(8000, 8100)], [{ protocol: 'UDP', port: 53 }], [tcp(80), tcp(8080)]];
    for (let i = 0; i < policies; i++) {
      const r = b.rng;
      const from: NetworkPolicyPeer[] = [{ podSelector: { matchLabels: { app: `app-${r.int(apps)}` } } }];
      if (r.chance(0.2)) from.push({ podSelector: { matchLabels: { version: `v${r.int(3)}` } } });
      if (r.chance(0.05)) from.push({ namespaceSelector: { matchLabels: { env: 'prod' } }, podSelector: { matchLabels: { app: `app-${r.int(apps)}` } } });
      const ingress: NetworkPolicyIngressRule[] = [{ from, ports: r.pick(portChoices) }];
      const egress: NetworkPolicyEgressRule[] | undefined = r.chance(0.2) ? [{ to: [{ podSelector: { matchLabels: { app: `app-${r.int(apps)}` } } }], ports: r.pick(portChoices) }] : undefined;
      b.policy(ns, `np-${pad(i, 5)}`, subjects[i % subjects.length]!, { ingress, ...(egress ? { egress } : {}) });
    }
  },

  /** One distinct peer per policy: as many classes and groups as pods. */
  pairs: (b, scale) => {
    const n = sized(10_000, scale, 2);
    const ns = 'pairs';
    b.namespace(ns);
    b.planPods(n);
    const width = String(n).length;
    for (let i = 0; i < n; i++) b.pod(ns, `pod-${pad(i, width)}-${b.suffix(5)}`, { app: 'pair', id: `p${i}` }, [{ name: 'http', containerPort: 8080 }]);
    for (let i = 0; i < n; i++) {
      b.policy(
        ns,
        `allow-${pad(i, width)}`,
        { matchLabels: { id: `p${i}` } },
        {
          ingress: [{ from: [{ podSelector: { matchLabels: { id: `p${(i + 1) % n}` } } }], ports: [tcp(i % 2 ? 'http' : 8080)] }],
        },
      );
    }
  },

  /** Peers from other namespaces through namespaceSelector: the relation is not block-diagonal. */
  'cross-ns': (b, scale) => {
    const nsCount = sized(1_000, scale, 2);
    const groups = Math.max(1, Math.round(nsCount / 10));
    b.planPods(nsCount * 100);
    const names: string[] = [];
    for (let n = 0; n < nsCount; n++) {
      const ns = `cx-${pad(n, 4)}`;
      names.push(ns);
      b.namespace(ns, { 'peer-group': `g${n % groups}`, zone: `z${n % 7}` });
      for (let j = 0; j < 100; j++) {
        b.pod(ns, `app-${j % 10}-${b.suffix(6)}`, { app: `a${j % 10}`, track: ['stable', 'canary', 'beta'][j % 3]! }, [
          { name: 'http', containerPort: 8080 },
          { name: 'metrics', containerPort: 9090 },
        ]);
      }
    }
    for (let n = 0; n < nsCount; n++) {
      const ns = names[n]!;
      for (let k = 0; k < 10; k++) {
        const g = (n + 1 + k * 7) % groups;
        const r = b.rng;
        const nsSel: LabelSelector =
          k % 4 === 3 ? { matchExpressions: [{ key: 'peer-group', operator: 'In', values: [`g${g}`, `g${(g + 1) % groups}`] }] } : { matchLabels: { 'peer-group': `g${g}` } };
        const from: NetworkPolicyPeer[] = [{ namespaceSelector: nsSel, podSelector: { matchLabels: { app: `a${(k + 1) % 10}` } } }];
        if (k === 0) from.push({ podSelector: {} });
        b.policy(
          ns,
          `from-group-${k}`,
          { matchLabels: { app: `a${k}` } },
          {
            ingress: [{ from, ports: k % 3 === 0 ? [tcp('http')] : k % 3 === 1 ? [tcp(8080)] : [tcp(8000, 8999), tcp('metrics')] }],
            ...(r.chance(0.3) ? { egress: [{ to: [{ namespaceSelector: nsSel }] }], policyTypes: ['Ingress', 'Egress'] } : {}),
          },
        );
      }
    }
  },

  realistic: (b, scale) => realistic(b, scale),
  mixed: (b, scale) => mixed(b, scale),
  adversarial: (b, scale) => adversarial(b, scale),

  /** Kubernetes' scalability limit: 150,000 pods. */
  max: (b, scale) => {
    const nsCount = sized(10_000, scale);
    b.planPods(nsCount * 15);
    const teams = Math.max(1, Math.round(nsCount / 100));
    const apps = ['web', 'api', 'auth', 'worker', 'db'];
    for (let n = 0; n < nsCount; n++) {
      const ns = `mx-${pad(n, 5)}`;
      b.namespace(ns, { team: `t${n % teams}`, env: ['prod', 'staging', 'dev'][n % 3]! });
      for (const app of apps) {
        const hash = b.suffix(9);
        for (let r = 0; r < 3; r++) {
          b.pod(ns, `${app}-${hash}-${b.suffix(5)}`, { app, 'pod-template-hash': hash }, [
            { name: 'http', containerPort: app === 'db' ? 5432 : 8080 },
            { name: 'metrics', containerPort: 9090 },
          ]);
        }
      }
    }
    let k = 0;
    for (let n = 0; n < nsCount; n++) {
      const ns = `mx-${pad(n, 5)}`;
      b.policy(ns, 'default-deny', {}, { policyTypes: ['Ingress'] });
      b.policy(ns, 'allow-web', { matchLabels: { app: 'web' } }, { ingress: [{ ports: [tcp('http')] }] });
      // Every hundredth policy (1%) admits peers from other namespaces.
      const cross = k++ % 100 === 0;
      const from: NetworkPolicyPeer[] = cross
        ? [{ namespaceSelector: { matchLabels: { team: `t${(n + 1) % teams}` } }, podSelector: { matchLabels: { app: 'api' } } }]
        : [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'auth'] }] } }];
      b.policy(ns, 'allow-api', { matchLabels: { app: 'api' } }, { ingress: [{ from, ports: [tcp('http'), tcp('metrics')] }] });
    }
  },
};

// --- realistic ------------------------------------------------------------------------------------------

const TIERS = ['frontend', 'backend', 'data', 'worker'];
const APP_NAMES = ['web', 'api', 'auth', 'cart', 'search', 'billing', 'db', 'cache', 'queue', 'worker', 'mailer', 'report', 'gateway', 'images', 'users'];
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/**
 * A mix modelled on published snapshots of production clusters: a quarter of the policies have no
 * rules (default deny, per app or per namespace), most select a handful of pods of one app, ~40% of
 * peers are ipBlocks (most with `except`), ports are often named, some peers select thousands of pods
 * (every namespace of an environment, or everything), and selectors use matchExpressions.
 */
function realistic(b: Builder, scale: number): void {
  const r = b.rng;
  const nsCount = sized(600, scale, 4);
  const policyTarget = sized(13_700, scale);
  b.planPods(nsCount * 9 + 12);
  const teams = Math.max(2, Math.round(nsCount / 10));
  const envs = ['prod', 'staging', 'dev'];

  // System namespaces every cluster has.
  b.namespace('kube-system');
  for (let i = 0; i < 2; i++) {
    b.pod('kube-system', `coredns-7db6d8ff4d-${b.suffix(5)}`, { 'k8s-app': 'kube-dns', 'pod-template-hash': '7db6d8ff4d' }, [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9153 },
    ]);
  }
  b.namespace('monitoring', { purpose: 'observability' });
  for (let i = 0; i < 3; i++) b.pod('monitoring', `prometheus-k8s-${i}`, { app: 'prometheus', 'app.kubernetes.io/name': 'prometheus' }, [{ name: 'web', containerPort: 9090 }]);
  b.namespace('ingress-nginx', { purpose: 'ingress' });
  for (let i = 0; i < 3; i++) {
    b.pod('ingress-nginx', `ingress-nginx-controller-5c9fd6b4f5-${b.suffix(5)}`, { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' }, [
      { name: 'http', containerPort: 80 },
      { name: 'https', containerPort: 443 },
    ]);
  }
  b.namespace('logging', { purpose: 'observability' });
  for (let i = 0; i < 4; i++) b.pod('logging', `fluent-bit-${b.suffix(5)}`, { app: 'fluent-bit' }, [{ name: 'http', containerPort: 2020 }]);

  interface App {
    readonly name: string;
    readonly tier: string;
    readonly http: number;
  }
  const nsApps = new Map<string, App[]>();
  const names: string[] = [];
  for (let n = 0; names.length < nsCount - 4; n++) {
    const team = `team-${n % teams}`;
    const env = envs[n % 3]!;
    const ns = `${team}-${env}-${n}`;
    names.push(ns);
    const labels: Record<string, string> = { team, env };
    if (r.chance(0.3)) labels['istio-injection'] = 'enabled';
    if (r.chance(0.5)) labels.tier = r.pick(['gold', 'silver', 'bronze']);
    b.namespace(ns, labels);
    const apps: App[] = r.sample(APP_NAMES, r.range(1, 5)).map((name) => ({ name, tier: r.pick(TIERS), http: r.pick([80, 8080, 8080, 3000]) }));
    nsApps.set(ns, apps);
    for (const a of apps) {
      const hash = b.suffix(10);
      const replicas = r.range(1, 5);
      for (let k = 0; k < replicas; k++) {
        const ports: PodPort[] = [{ name: 'http', containerPort: a.http }];
        if (r.chance(0.8) || k > 0) ports.push({ name: 'metrics', containerPort: 9090 });
        if (a.name === 'api' || a.name === 'auth') ports.push({ name: 'grpc', containerPort: 9000 });
        b.pod(
          ns,
          `${a.name}-${hash}-${b.suffix(5)}`,
          { app: a.name, 'app.kubernetes.io/name': a.name, 'pod-template-hash': hash, tier: a.tier, ...(k === 0 && r.chance(0.2) ? { role: 'leader' } : {}) },
          ports,
          { dualStack: r.chance(0.05) },
        );
      }
    }
  }

  // ipBlocks come from a pool, as in real clusters where a few CIDRs (the internet minus private ranges,
  // the pod network minus infrastructure nodes, partners' ranges) are written again and again. The
  // infrastructure nodes' /24s cut the pods of those nodes out of every class that an except touches.
  const infra = [0, 1, 2].map((n) => nodeSubnet(n));
  const ipPeer = (): NetworkPolicyPeer => {
    const x = r.int(10);
    if (x < 3) return { ipBlock: { cidr: '0.0.0.0/0', except: r.sample(PRIVATE, r.range(1, 3)) } };
    if (x < 6) return { ipBlock: { cidr: '10.0.0.0/8', except: [r.pick(infra), ...(r.chance(0.3) ? ['10.0.0.0/16'] : [])] } };
    if (x < 8) return { ipBlock: { cidr: `${r.pick(['203.0.113', '198.51.100', '192.0.2'])}.0/24` } };
    if (x < 9) return { ipBlock: { cidr: r.chance(0.5) ? r.pick(infra) : '169.254.169.254/32' } };
    return { ipBlock: { cidr: 'fd00:10::/32', except: ['fd00:10:1::/48'] } };
  };
  const selPeer = (ns: string, apps: App[]): NetworkPolicyPeer => {
    const x = r.int(100);
    if (x < 35) return { podSelector: { matchLabels: { app: r.pick(apps).name } } };
    if (x < 45) return { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: r.sample(TIERS, 2) }] } };
    if (x < 55) return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { app: 'prometheus' } } };
    if (x < 63) return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } };
    if (x < 73) {
      const other = r.pick(names);
      const otherApps = nsApps.get(other) ?? apps;
      return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': other } }, podSelector: { matchLabels: { app: r.pick(otherApps).name } } };
    }
    if (x < 83) return { namespaceSelector: { matchLabels: { team: ns.split('-').slice(0, 2).join('-') } } };
    if (x < 90)
      return {
        podSelector: {
          matchExpressions: [
            { key: 'role', operator: 'DoesNotExist' },
            { key: 'app', operator: 'NotIn', values: [r.pick(APP_NAMES)] },
          ],
        },
      };
    if (x < 95) return { namespaceSelector: { matchLabels: { env: r.pick(envs) } } }; // thousands of pods
    if (x < 98) return { namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'Exists' }] }, podSelector: { matchLabels: { tier: r.pick(TIERS) } } };
    return { namespaceSelector: {}, podSelector: {} }; // everything
  };
  const ports = (): NetworkPolicyPort[] | undefined => {
    const x = r.int(10);
    if (x < 2) return undefined;
    if (x < 5) return [tcp('http')];
    if (x < 6) return [tcp('http'), tcp('metrics')];
    if (x < 7) return [tcp(r.pick([80, 443, 8080, 5432]))];
    if (x < 8) return [tcp(8000, 8999)];
    if (x < 9) return [tcp('grpc')];
    return [{ protocol: 'UDP', port: 53 }, tcp(53)];
  };
  const peers = (ns: string, apps: App[]): NetworkPolicyPeer[] | undefined => {
    if (r.chance(0.08)) return undefined;
    const k = r.range(1, 3);
    const out: NetworkPolicyPeer[] = [];
    for (let i = 0; i < k; i++) out.push(r.chance(0.4) ? ipPeer() : selPeer(ns, apps));
    return out;
  };

  let made = 0;
  for (let round = 0; made < policyTarget; round++) {
    for (const ns of names) {
      if (made >= policyTarget) break;
      const apps = nsApps.get(ns)!;
      const app = r.pick(apps);
      const name = `${app.name}-${round}-${b.suffix(4)}`;
      const subject: LabelSelector = r.chance(0.1) ? {} : r.chance(0.15) ? { matchExpressions: [{ key: 'tier', operator: 'In', values: [app.tier] }] } : { matchLabels: { app: app.name } };
      made++;
      if (r.chance(0.25)) {
        // No rules: isolation only (default deny for the selected pods).
        b.policy(ns, `deny-${name}`, subject, { policyTypes: r.chance(0.6) ? ['Ingress'] : ['Ingress', 'Egress'] });
        continue;
      }
      const ingress: NetworkPolicyIngressRule[] = [];
      const egress: NetworkPolicyEgressRule[] = [];
      const nIn = r.chance(0.8) ? r.range(1, 2) : 0;
      const nOut = r.chance(0.35) ? r.range(1, 2) : 0;
      for (let i = 0; i < nIn; i++) {
        const from = peers(ns, apps);
        const p = ports();
        ingress.push({ ...(from ? { from } : {}), ...(p ? { ports: p } : {}) });
      }
      for (let i = 0; i < nOut; i++) {
        const to = peers(ns, apps);
        const p = ports();
        egress.push({ ...(to ? { to } : {}), ...(p ? { ports: p } : {}) });
      }
      const types = egress.length > 0 ? (r.chance(0.5) ? ['Ingress', 'Egress'] : undefined) : r.chance(0.3) ? ['Ingress'] : undefined;
      b.policy(ns, `allow-${name}`, subject, { ingress, ...(egress.length ? { egress } : {}), ...(types ? { policyTypes: types } : {}) });
    }
  }
  // kube-system: DNS must be reachable from everywhere.
  b.policy(
    'kube-system',
    'allow-dns',
    { matchLabels: { 'k8s-app': 'kube-dns' } },
    {
      ingress: [
        {
          from: [{ namespaceSelector: {} }],
          ports: [
            { protocol: 'UDP', port: 'dns' },
            { protocol: 'TCP', port: 'dns-tcp' },
          ],
        },
      ],
    },
  );
}

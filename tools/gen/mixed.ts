/**
 * Two shapes built to hurt the class engine rather than to flatter it:
 *
 * - `mixed`: what a large cluster with many teams looks like when every feature is used at once:
 *   selectors across namespaces (a team label, `kubernetes.io/metadata.name`, `{}`), podSelector AND
 *   namespaceSelector, matchExpressions with all four operators, ipBlock `10.0.0.0/8` minus the /24 of
 *   one namespace's node, named ports mapping to different numbers on different pods, endPort ranges,
 *   every combination of policyTypes. Pods carry per-pod labels (version, zone), so most are their own
 *   class (about three classes for four pods).
 * - `adversarial`: every pod its own class (an `id` label), subjects and peers on overlapping
 *   label sets (so classes fall into many groups and every peer matches an arbitrary slice of every
 *   namespace), namespace selectors overlapping across namespaces, a distinct ipBlock in most policies
 *   (random CIDRs of the pod network with excepts, cutting pods of many namespaces), named ports that
 *   differ on every pod, endPort ranges.
 *
 * Scale 1: 50,000 pods and 10,000 policies each; scale 2 is the 100,000/20,000 benchmark.
 */
import type { LabelSelector, LabelSelectorRequirement, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort } from '../../src/model/index.js';
import { nodeSubnet, pad, sized, tcp, type Builder, type PodPort } from './builder.js';

const ENVS = ['prod', 'staging', 'dev'];
const TIERS = ['frontend', 'backend', 'data', 'worker'];
const APPS = ['web', 'api', 'auth', 'cart', 'search', 'billing', 'db', 'cache', 'queue', 'worker', 'mailer', 'report', 'gateway', 'images', 'users', 'ledger'];
const HTTP_PORTS = [80, 8080, 8000, 3000];

interface MixedApp {
  readonly name: string;
  readonly tier: string;
  readonly http: number;
}

export function mixed(b: Builder, scale: number): void {
  const r = b.rng;
  const nsCount = sized(2_000, scale, 4);
  const podTarget = sized(50_000, scale, 8);
  const policyTarget = sized(10_000, scale, 4);
  const teams = Math.max(2, Math.round(nsCount / 20));
  b.planPods(podTarget, { packed: true });
  const names: string[] = [];
  const apps = new Map<string, MixedApp[]>();
  /** The node (so the /24) of each namespace's first pod. */
  const nodeOf = new Map<string, number>();
  const perNs = podTarget / nsCount;
  let made = 0;
  for (let n = 0; n < nsCount; n++) {
    const team = `team-${n % teams}`;
    const env = ENVS[n % 3]!;
    const ns = `${team}-${env}-${pad(n, 4)}`;
    names.push(ns);
    const labels: Record<string, string> = { team, env };
    if (r.chance(0.3)) labels['istio-injection'] = 'enabled';
    if (r.chance(0.5)) labels.tier = r.pick(['gold', 'silver', 'bronze']);
    b.namespace(ns, labels);
    nodeOf.set(ns, b.nextNode);
    const list: MixedApp[] = r.sample(APPS, r.range(2, 8)).map((name) => ({ name, tier: r.pick(TIERS), http: r.pick(HTTP_PORTS) }));
    apps.set(ns, list);
    // Pods of this namespace: as many as keep the running total on target.
    const want = Math.round(perNs * (n + 1)) - made;
    for (let k = 0; k < want; k++) {
      const a = list[k % list.length]!;
      const ports: PodPort[] = [
        { name: 'http', containerPort: a.http },
        { name: 'metrics', containerPort: r.chance(0.7) ? 9090 : 9100 },
      ];
      if (a.name === 'api' || a.name === 'auth') ports.push({ name: 'grpc', containerPort: r.chance(0.5) ? 9000 : 50051 });
      if (a.name === 'cache') ports.push({ name: 'dns', containerPort: 53, protocol: 'UDP' });
      const podLabels: Record<string, string> = { app: a.name, tier: a.tier, version: `v${r.range(1, 4)}`, zone: `z${r.int(6)}` };
      if (r.chance(0.1)) podLabels.canary = 'true';
      b.pod(ns, `${a.name}-${b.suffix(10)}`, podLabels, ports);
    }
    made += want;
  }

  const cidr8 = (): NetworkPolicyPeer => ({ ipBlock: { cidr: '10.0.0.0/8', except: [nodeSubnet(nodeOf.get(r.pick(names))!)] } });
  const peer = (ns: string): NetworkPolicyPeer => {
    const own = apps.get(ns)!;
    const x = r.int(100);
    if (x < 20) return { podSelector: { matchLabels: { app: r.pick(own).name } } };
    if (x < 27) return { podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: r.sample(TIERS, 2) }] } };
    if (x < 37) return { namespaceSelector: { matchLabels: { team: `team-${r.int(teams)}` } } };
    if (x < 47) {
      const other = r.pick(names);
      return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': other } }, podSelector: { matchLabels: { app: r.pick(apps.get(other)!).name } } };
    }
    if (x < 52) return { namespaceSelector: {} };
    if (x < 58)
      return {
        namespaceSelector: {},
        podSelector: {
          matchExpressions: [
            { key: 'canary', operator: 'DoesNotExist' },
            { key: 'tier', operator: 'In', values: [r.pick(TIERS)] },
          ],
        },
      };
    if (x < 64) return { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: r.sample(ENVS, 2) }] }, podSelector: { matchLabels: { app: r.pick(APPS) } } };
    if (x < 68) return { namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'Exists' }] } };
    if (x < 72) return { podSelector: { matchExpressions: [{ key: 'version', operator: 'In', values: [`v${r.range(1, 4)}`] }] } };
    if (x < 85) return cidr8();
    if (x < 93) return { ipBlock: { cidr: '0.0.0.0/0', except: r.sample(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], r.range(1, 3)) } };
    return { ipBlock: { cidr: `${r.pick(['203.0.113', '198.51.100', '192.0.2'])}.0/24` } };
  };
  const ports = (): NetworkPolicyPort[] | undefined => {
    const x = r.int(12);
    if (x < 2) return undefined;
    if (x < 5) return [tcp('http')];
    if (x < 6) return [tcp('http'), tcp('metrics')];
    if (x < 8) return [tcp(r.pick([80, 443, 8080, 5432, 3000]))];
    if (x < 9) return [tcp(8000, 8999)];
    if (x < 10) return [tcp(r.pick([1024, 30000])!, 32767)];
    if (x < 11) return [tcp('grpc'), { protocol: 'UDP', port: 'dns' }];
    return [{ protocol: 'UDP', port: 53 }, tcp(53)];
  };
  const peers = (ns: string): NetworkPolicyPeer[] | undefined => {
    if (r.chance(0.06)) return undefined;
    const out: NetworkPolicyPeer[] = [];
    for (let i = r.range(1, 3); i > 0; i--) out.push(peer(ns));
    return out;
  };
  const subject = (ns: string): LabelSelector => {
    const own = apps.get(ns)!;
    const x = r.int(100);
    if (x < 8) return {};
    if (x < 55) return { matchLabels: { app: r.pick(own).name } };
    if (x < 70) return { matchExpressions: [{ key: 'tier', operator: 'In', values: [r.pick(TIERS)] }] };
    if (x < 80) return { matchExpressions: [{ key: 'app', operator: 'NotIn', values: [r.pick(own).name] }] };
    if (x < 90) return { matchLabels: { app: r.pick(own).name }, matchExpressions: [{ key: 'canary', operator: 'Exists' }] };
    return {
      matchExpressions: [
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'In', values: [`z${r.int(6)}`, `z${r.int(6)}`] },
      ],
    };
  };
  for (let i = 0; i < policyTarget; i++) {
    const ns = names[i % nsCount]!;
    const kind = r.int(4);
    const policyTypes = kind === 0 ? ['Ingress'] : kind === 1 ? ['Egress'] : kind === 2 ? ['Ingress', 'Egress'] : undefined;
    const ingress: NetworkPolicyIngressRule[] = [];
    const egress: NetworkPolicyEgressRule[] = [];
    const rules = r.chance(0.15) ? 0 : r.range(1, 2);
    for (let k = 0; k < rules; k++) {
      if (kind !== 1) {
        const from = peers(ns);
        const p = ports();
        ingress.push({ ...(from ? { from } : {}), ...(p ? { ports: p } : {}) });
      }
      if (kind !== 0 && (kind !== 3 || r.chance(0.4))) {
        const to = peers(ns);
        const p = ports();
        egress.push({ ...(to ? { to } : {}), ...(p ? { ports: p } : {}) });
      }
    }
    b.policy(ns, `np-${pad(i, 6)}`, subject(ns), { ...(ingress.length ? { ingress } : {}), ...(egress.length ? { egress } : {}), ...(policyTypes ? { policyTypes } : {}) });
  }
}

export function adversarial(b: Builder, scale: number): void {
  const r = b.rng;
  const nsCount = sized(500, scale, 2);
  const podTarget = sized(50_000, scale, 4);
  const policyTarget = sized(10_000, scale, 2);
  const nodes = Math.max(1, Math.ceil(podTarget / 100));
  b.planPods(podTarget);
  const names: string[] = [];
  for (let n = 0; n < nsCount; n++) {
    const ns = `adv-${pad(n, 4)}`;
    names.push(ns);
    b.namespace(ns, { region: `r${n % 7}`, team: `t${n % 23}`, ring: `${n % 5}`, ...(n % 3 === 0 ? { tier: `x${n % 4}` } : {}) });
  }
  for (let k = 0; k < podTarget; k++) {
    const ns = names[k % nsCount]!;
    const labels: Record<string, string> = { id: `p${k}`, shard: `s${k % 97}`, bucket: `b${k % 61}`, ring: `r${k % 13}` };
    if (k % 11 === 0) labels.canary = 'true';
    const ports: PodPort[] = [
      { name: 'http', containerPort: 8000 + (k % 50) },
      { name: 'metrics', containerPort: 9000 + (k % 7) },
    ];
    if (k % 5 === 0) ports.push({ name: 'grpc', containerPort: 50000 + (k % 3), protocol: k % 2 ? 'TCP' : 'UDP' });
    b.pod(ns, `pod-${pad(k, 6)}`, labels, ports);
  }

  const some = (prefix: string, mod: number, n: number): string[] => {
    const out = new Set<string>();
    while (out.size < n) out.add(`${prefix}${r.int(mod)}`);
    return [...out];
  };
  const op = (key: string, prefix: string, mod: number): LabelSelectorRequirement => {
    const x = r.int(4);
    if (x === 0) return { key, operator: 'In', values: some(prefix, mod, r.range(1, 6)) };
    if (x === 1) return { key, operator: 'NotIn', values: some(prefix, mod, r.range(1, 6)) };
    if (x === 2) return { key: 'canary', operator: 'Exists' };
    return { key: 'canary', operator: 'DoesNotExist' };
  };
  const podSel = (): LabelSelector => {
    const x = r.int(3);
    if (x === 0) return { matchExpressions: [op('shard', 's', 97)] };
    if (x === 1) return { matchExpressions: [op('bucket', 'b', 61), { key: 'ring', operator: 'In', values: some('r', 13, r.range(2, 8)) }] };
    return { matchLabels: { ring: `r${r.int(13)}` }, matchExpressions: [op('shard', 's', 97)] };
  };
  const nsSel = (): LabelSelector => {
    const x = r.int(4);
    if (x === 0) return { matchExpressions: [{ key: 'region', operator: 'In', values: some('r', 7, 2) }] };
    if (x === 1) return { matchExpressions: [{ key: 'team', operator: 'NotIn', values: some('t', 23, 3) }] };
    if (x === 2)
      return {
        matchExpressions: [
          { key: 'tier', operator: 'Exists' },
          { key: 'ring', operator: 'In', values: [`${r.int(5)}`, `${r.int(5)}`] },
        ],
      };
    return { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] };
  };
  /** A random block of the pod network (10.64.0.0/10), with up to two excepts inside it. */
  const block = (): NetworkPolicyPeer => {
    const node = r.int(nodes);
    const prefix = r.range(16, 26);
    const base = (((10 << 24) | ((64 + ((node >> 8) & 63)) << 16) | ((node & 255) << 8)) >>> 0) & (prefix === 0 ? 0 : ~((1 << (32 - prefix)) - 1) >>> 0);
    const text = (a: number, p: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${p}`;
    const except: string[] = [];
    for (let i = r.int(3); i > 0; i--) {
      const p = r.range(prefix + 1, Math.min(30, prefix + 6));
      const size = 2 ** (32 - prefix);
      const offset = Math.floor(r.next() * size) & ~(2 ** (32 - p) - 1);
      except.push(text((base + offset) >>> 0, p));
    }
    return { ipBlock: { cidr: text(base >>> 0, prefix), ...(except.length ? { except: [...new Set(except)] } : {}) } };
  };
  const peer = (): NetworkPolicyPeer => {
    const x = r.int(10);
    if (x < 3) return { podSelector: podSel() };
    if (x < 6) return { namespaceSelector: nsSel(), podSelector: podSel() };
    if (x < 7) return { namespaceSelector: nsSel() };
    return block();
  };
  const ports = (): NetworkPolicyPort[] | undefined => {
    const x = r.int(8);
    if (x < 1) return undefined;
    if (x < 3) return [tcp('http')];
    if (x < 4) return [tcp('metrics'), { protocol: r.chance(0.5) ? 'UDP' : 'TCP', port: 'grpc' }];
    if (x < 6) {
      const lo = 8000 + r.int(60);
      return [tcp(lo, lo + r.int(40))];
    }
    if (x < 7) return [tcp(80), tcp(8000 + r.int(50))];
    return [{ protocol: 'UDP', port: 53 }, tcp(r.range(1, 30000), 65535)];
  };
  for (let i = 0; i < policyTarget; i++) {
    const ns = names[i % nsCount]!;
    const kind = r.int(4);
    const policyTypes = kind === 0 ? ['Ingress'] : kind === 1 ? ['Egress'] : kind === 2 ? ['Ingress', 'Egress'] : undefined;
    const rule = (): { peers?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] } => {
      const list: NetworkPolicyPeer[] = [];
      for (let k = r.range(1, 3); k > 0; k--) list.push(peer());
      const p = ports();
      return { peers: list, ...(p ? { ports: p } : {}) };
    };
    const ingress: NetworkPolicyIngressRule[] = [];
    const egress: NetworkPolicyEgressRule[] = [];
    for (let k = r.range(1, 2); k > 0; k--) {
      if (kind !== 1) {
        const { peers, ports: p } = rule();
        ingress.push({ from: peers, ...(p ? { ports: p } : {}) });
      }
      if (kind !== 0) {
        const { peers, ports: p } = rule();
        egress.push({ to: peers, ...(p ? { ports: p } : {}) });
      }
    }
    b.policy(ns, `np-${pad(i, 6)}`, podSel(), { ...(ingress.length ? { ingress } : {}), ...(egress.length ? { egress } : {}), ...(policyTypes ? { policyTypes } : {}) });
  }
}

/**
 * Pair questions for the page when the cluster has cluster-scoped policies: the exact engine
 * (src/engine, with its tiers), asked once per pair of *look-alike* pods rather than per pair of pods.
 *
 * Design choice: two pods are look-alikes when nothing any policy reads can tell them apart: the same
 * namespace (its labels), the same labels, the same container ports (named ports), the same host
 * network setting, and addresses that fall in the same ipBlocks and cluster `networks` and equal the
 * same node addresses (`nodes` peers). Every selector, peer and port of NetworkPolicy and the tiers
 * reads only these, so look-alikes get the same verdicts from and to everyone; replicas of a workload
 * and pods stamped from one template are look-alikes. The relation then costs one verdict per pair of
 * look-alike groups, and the property test holds it to the pair-by-pair answer. (When the tier-aware
 * class engine of src/scale lands, it answers instead.)
 */
import { podEndpoint, type Engine, type Probe } from '../engine/index.js';
import { parseIP, type AddressSet, type IP } from '../ip/index.js';
import type { PodInfo } from '../model/index.js';
import { clusterRulesOf, rulesOf } from '../policy/index.js';
import type { PairEngine } from './relation.js';

export class TieredPairs implements PairEngine {
  private readonly classes = new Map<PodInfo, number>();
  private readonly endpoints = new Map<PodInfo, ReturnType<typeof podEndpoint>>();

  constructor(
    readonly engine: Engine,
    pods: readonly PodInfo[],
  ) {
    const sets = addressSets(engine);
    const nodeAddresses = new Set((engine.cluster.nodes ?? []).flatMap((n) => n.addresses.map((t) => parseIP(t)).flatMap((a) => (a ? [`${a.family}:${a.value}`] : []))));
    const ids = new Map<string, number>();
    for (const p of pods) {
      const ips = p.ips.map((t) => parseIP(t)).filter((ip): ip is IP => ip !== undefined);
      const blocks = sets.map((s) => (ips.some((ip) => s.contains(ip)) ? '1' : '0')).join('');
      const nodes = ips
        .map((ip) => `${ip.family}:${ip.value}`)
        .filter((k) => nodeAddresses.has(k))
        .sort();
      const labels = Object.entries(p.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const ports = p.ports.map((x) => `${x.name ?? ''}/${x.protocol}/${x.port}`).sort();
      const key = JSON.stringify([p.namespace, labels, ports, p.hostNetwork === true, blocks, nodes]);
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      this.classes.set(p, id);
      this.endpoints.set(p, podEndpoint(p));
    }
  }

  classOf(pod: PodInfo): number | undefined {
    return this.classes.get(pod);
  }

  allows(source: PodInfo, destination: PodInfo, probe: Probe): boolean {
    if (source === destination) return true;
    return this.engine.allows({ source: this.endpoints.get(source) ?? podEndpoint(source), destination: this.endpoints.get(destination) ?? podEndpoint(destination), protocol: probe.protocol, port: probe.port });
  }
}

/** Every address set a peer of the engine's policies matches pod addresses against: ipBlocks and `networks`. */
function addressSets(engine: Engine): AddressSet[] {
  const out: AddressSet[] = [];
  for (const p of engine.policies) {
    for (const d of ['ingress', 'egress'] as const) for (const r of rulesOf(p, d)) for (const peer of r.peers ?? []) if (peer.kind === 'ipBlock') out.push(peer.addresses);
  }
  for (const p of engine.clusterPolicies) {
    for (const d of ['ingress', 'egress'] as const) for (const r of clusterRulesOf(p, d)) for (const peer of r.peers) if (peer.kind === 'networks') out.push(peer.addresses);
  }
  return [...new Set(out)];
}

/**
 * Addresses outside the cluster as graph nodes: each distinct ipBlock of the NetworkPolicies (`cidr`
 * minus its `except`s) and each `networks` peer of the cluster-scoped policies is one node, with the
 * pods that may connect to it and the pods it may connect to, for one probe. Pure: no IO.
 *
 * Design choice: a block is asked about through one representative address (the lowest of the block
 * that is no pod's address; a pod's address would be asked about as that pod, see `check`), and a pod
 * through its class (pods at one position of the relation get the same verdicts, towards addresses
 * too: classes are split by the ipBlocks and named ports they meet). Another policy's narrower block
 * inside this one may decide other addresses differently; clicking an arrow asks `check` about the
 * representative, which says exactly what holds for it.
 */
import { podEndpoint, type Engine, type Probe } from '../engine/index.js';
import { AddressSet, formatIP, parseIP, type IP } from '../ip/index.js';
import type { PodInfo } from '../model/index.js';
import { clusterRulesOf, rulesOf } from '../policy/index.js';

export interface ExternalBlock {
  /** `10.0.0.0/8 except 10.1.0.0/16`, or the networks of a cluster policy's peer joined by `, `. */
  readonly label: string;
  /** The address the verdicts are asked for. */
  readonly address: string;
  /** The policies naming the block (`ns/name` or `Kind/name`). */
  readonly policies: readonly string[];
  /** Relation positions (of the same probe's `reach`) of pods that may connect to the block. */
  readonly reachedFrom: readonly number[];
  /** Relation positions of pods the block may connect to. */
  readonly reaches: readonly number[];
}

interface Block {
  readonly label: string;
  readonly addresses: AddressSet;
  readonly policies: Set<string>;
}

/** Blocks are bounded: a graph with more external nodes than this is not read. */
export const MAX_BLOCKS = 200;

/** The distinct address blocks named by the engine's policies, in order of appearance. */
function blocksOf(engine: Engine): Block[] {
  const byLabel = new Map<string, Block>();
  const add = (label: string, addresses: AddressSet, policy: string): void => {
    let b = byLabel.get(label);
    if (!b) byLabel.set(label, (b = { label, addresses, policies: new Set() }));
    b.policies.add(policy);
  };
  for (const p of engine.policies) {
    for (const d of ['ingress', 'egress'] as const) {
      for (const r of rulesOf(p, d))
        for (const peer of r.peers ?? []) if (peer.kind === 'ipBlock') add(peer.except.length ? `${peer.cidr} except ${peer.except.join(', ')}` : peer.cidr, peer.addresses, p.key);
    }
  }
  for (const p of engine.clusterPolicies) {
    for (const d of ['ingress', 'egress'] as const) {
      for (const r of clusterRulesOf(p, d)) for (const peer of r.peers) if (peer.kind === 'networks') add(peer.cidrs.join(', '), peer.addresses, p.key);
    }
  }
  return [...byLabel.values()];
}

/** The lowest address of `set` (IPv4 first), or undefined when it is empty. */
function lowest(set: AddressSet): IP | undefined {
  for (const family of [4, 6] as const) {
    const first = set.intervals(family)[0];
    if (first) return { family, value: first[0] };
  }
  return undefined;
}

/** Every pod address, as one set (the addresses a block's representative must avoid). */
export function podAddresses(pods: readonly PodInfo[]): AddressSet {
  const ips = pods.flatMap((p) => p.ips.map((t) => parseIP(t))).filter((ip): ip is IP => ip !== undefined);
  const of = (family: 4 | 6) =>
    AddressSet.fromIntervals(
      family,
      ips.filter((ip) => ip.family === family).map((ip) => [ip.value, ip.value] as const),
    );
  return of(4).union(of(6));
}

/** The blocks an engine's policies name, each with its representative address: once per engine. */
export class AddressBlocks {
  readonly blocks: readonly { readonly label: string; readonly ip: IP; readonly policies: readonly string[]; readonly addresses: AddressSet }[];

  constructor(engine: Engine, avoid: AddressSet) {
    this.blocks = blocksOf(engine)
      .slice(0, MAX_BLOCKS)
      .flatMap((b) => {
        const ip = lowest(b.addresses.subtract(avoid));
        return ip ? [{ label: b.label, ip, policies: [...b.policies].sort(), addresses: b.addresses }] : [];
      });
  }

  /** The label of the first block holding `ip` (as the graph lists them), if any. */
  find(ip: IP): string | undefined {
    return this.blocks.find((b) => b.addresses.contains(ip))?.label;
  }
}

/**
 * Each block with the positions that reach it and that it reaches on `probe`, by `engine` (the one
 * `blocks` was made from). `positions[i]` is the relation position of `pods[i]`; only the positions of
 * pods `shown` accepts are asked about (the cost follows what the graph draws: one verdict per
 * position, block and direction). Blocks holding only pod addresses are left out (they are pods).
 */
export function externalBlocks(
  blocks: AddressBlocks,
  engine: Engine,
  pods: readonly PodInfo[],
  positions: ArrayLike<number>,
  probe: Probe,
  shown: (pod: PodInfo) => boolean = () => true,
): ExternalBlock[] {
  const reps = new Map<number, PodInfo>();
  pods.forEach((p, i) => {
    if (!reps.has(positions[i]!) && shown(p)) reps.set(positions[i]!, p);
  });
  return blocks.blocks.map((b) => {
    const text = formatIP(b.ip);
    const external = { kind: 'external' as const, ip: b.ip, text };
    const reachedFrom: number[] = [];
    const reaches: number[] = [];
    for (const [position, pod] of reps) {
      const self = podEndpoint(pod);
      if (engine.allows({ source: self, destination: external, protocol: probe.protocol, port: probe.port })) reachedFrom.push(position);
      if (engine.allows({ source: external, destination: self, protocol: probe.protocol, port: probe.port })) reaches.push(position);
    }
    return { label: b.label, address: text, policies: b.policies, reachedFrom: reachedFrom.sort((x, y) => x - y), reaches: reaches.sort((x, y) => x - y) };
  });
}

/**
 * Random single changes to a cluster, for the incremental benchmarks and tests: a pod added (a new
 * replica of an existing pod, with a fresh address), a pod removed, a pod's labels changed, a policy
 * added (a copy of an existing one under a new name), edited (its subject selector or its rules
 * replaced by another policy's) or removed.
 *
 * Design choice: changes are drawn against a mirror of the cluster that the caller keeps in step (the
 * `ChangeStream` applies each change to its own lists before handing it out), so every change refers
 * to objects that exist at that point. Pure and seeded, like the shapes.
 */
import type { Cluster, PodInfo, PolicyInfo } from '../../src/model/index.js';
import { random, type Random } from './random.js';

export type Change =
  | { readonly kind: 'addPod'; readonly pod: PodInfo }
  | { readonly kind: 'removePod'; readonly pod: PodInfo }
  /** The same pod with other labels (`next` replaces `pod`). */
  | { readonly kind: 'replacePod'; readonly pod: PodInfo; readonly next: PodInfo }
  | { readonly kind: 'upsertPolicy'; readonly policy: PolicyInfo }
  | { readonly kind: 'removePolicy'; readonly namespace: string; readonly name: string };

/** Relative frequency of each kind of change. */
const MIX: readonly [Change['kind'] | 'addPolicy' | 'editPolicy', number][] = [
  ['addPod', 25],
  ['removePod', 20],
  ['replacePod', 20],
  ['addPolicy', 15],
  ['editPolicy', 10],
  ['removePolicy', 10],
];

export class ChangeStream {
  private readonly rng: Random;
  readonly pods: PodInfo[];
  readonly policies: PolicyInfo[];
  private serial = 0;

  constructor(cluster: Cluster, seed = 1) {
    this.rng = random(seed);
    this.pods = [...cluster.pods];
    this.policies = [...cluster.policies];
  }

  next(): Change {
    for (;;) {
      const c = this.draw();
      if (c) return c;
    }
  }

  private draw(): Change | undefined {
    const r = this.rng;
    let x = r.int(100);
    let kind: (typeof MIX)[number][0] = 'addPod';
    for (const [k, w] of MIX) {
      if (x < w) {
        kind = k;
        break;
      }
      x -= w;
    }
    const n = ++this.serial;
    switch (kind) {
      case 'addPod': {
        if (this.pods.length === 0) return undefined;
        const { source: _source, ...base } = r.pick(this.pods);
        // 10.255.0.0/16 is outside what the shapes allocate: a new node's addresses.
        const ip = `10.255.${(n >> 8) & 255}.${n & 255}`;
        const pod: PodInfo = { ...base, name: `${base.name}-x${n}`, ips: [ip] };
        this.pods.push(pod);
        return { kind: 'addPod', pod };
      }
      case 'removePod': {
        if (this.pods.length < 2) return undefined;
        const [pod] = this.pods.splice(r.int(this.pods.length), 1);
        return { kind: 'removePod', pod: pod! };
      }
      case 'replacePod': {
        if (this.pods.length === 0) return undefined;
        const i = r.int(this.pods.length);
        const pod = this.pods[i]!;
        // Take the labels of another pod of the namespace when there is one (the pod moves to another
        // app), or flip a canary label.
        const other = r.pick(this.pods);
        const labels: Record<string, string> = other.namespace === pod.namespace && other !== pod && r.chance(0.5) ? { ...other.labels } : { ...pod.labels, canary: r.chance(0.5) ? 'true' : 'false' };
        const next: PodInfo = { ...pod, labels };
        this.pods[i] = next;
        return { kind: 'replacePod', pod, next };
      }
      case 'addPolicy': {
        if (this.policies.length === 0) return undefined;
        const base = r.pick(this.policies);
        const name = `${base.name}-x${n}`;
        const policy: PolicyInfo = { namespace: base.namespace, name, policy: { ...base.policy, metadata: { ...base.policy.metadata, name } } };
        this.policies.push(policy);
        return { kind: 'upsertPolicy', policy };
      }
      case 'editPolicy': {
        if (this.policies.length === 0) return undefined;
        const i = r.int(this.policies.length);
        const old = this.policies[i]!;
        const donor = r.pick(this.policies);
        // Either the subject selector or the rules of another policy (same shape of change as an edit).
        const spec = r.chance(0.5) ? { ...old.policy.spec, podSelector: donor.policy.spec.podSelector } : { ...donor.policy.spec, podSelector: old.policy.spec.podSelector };
        const policy: PolicyInfo = { namespace: old.namespace, name: old.name, policy: { ...old.policy, spec } };
        this.policies[i] = policy;
        return { kind: 'upsertPolicy', policy };
      }
      case 'removePolicy': {
        if (this.policies.length === 0) return undefined;
        const [p] = this.policies.splice(r.int(this.policies.length), 1);
        return { kind: 'removePolicy', namespace: p!.namespace, name: p!.name };
      }
    }
  }
}

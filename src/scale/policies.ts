/**
 * The second layer of the class engine: policies and the groups they make. Classes selected by the
 * same policies for a direction share a group; a group folds the rules of its policies into a table
 * `peer -> ports` (plus the ports of rules without peers). The open ends of every cached probe (see
 * `OpenCache`) are kept up to date as groups and their weights change.
 */
import { type Cluster, type PolicyInfo } from '../model/index.js';
import { inView, policyNormalizer, type Policy, type PortSpec } from '../policy/index.js';
import { PortAgg } from './ports.js';
import { EGRESS, INGRESS, NO_RULES, type ClassRec, type Dir, type GroupRec, type PolicyRec, type ProbeCache, type RuleRec } from './records.js';
import { ticker, type ScaleOptions } from './types.js';
import { ClassStore } from './classes.js';

export abstract class PolicyGroups extends ClassStore {
  /** See {@link ScaleOptions.includeAudit}. */
  protected readonly includeAudit: boolean;
  /** Policies by namespace, then name. */
  protected readonly policies = new Map<string, Map<string, PolicyRec>>();
  protected policyCount = 0;
  /** Policies attached and not yet in `policies` (indexed by name when first needed). */
  protected unindexed: PolicyRec[] = [];
  protected readonly groups: GroupRec[] = [];

  protected readonly groupByKey: [Map<string, number>, Map<string, number>] = [new Map(), new Map()];

  /** Groups with a rule that has no peers, per direction. */
  protected readonly anyGroups: [Set<number>, Set<number>] = [new Set(), new Set()];
  protected readonly caches = new Map<string, ProbeCache>();

  constructor(opts: ScaleOptions) {
    super(opts);
    this.includeAudit = opts.includeAudit === true;
  }

  protected attachNormalised(cluster: Cluster, normalised: readonly Policy[]): void {
    const infos = new Map(cluster.policies.map((p) => [`${p.namespace}/${p.name}`, p]));
    const tickPolicies = ticker(this.progress, 'policies', normalised.length);
    let done = 0;
    for (const norm of normalised) {
      tickPolicies(++done);
      const info = infos.get(norm.key) ?? {
        namespace: norm.ref.namespace,
        name: norm.ref.name,
        policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: norm.ref.name, namespace: norm.ref.namespace }, spec: { podSelector: {} } },
      };
      this.attachPolicy(this.policyRec(info, norm));
    }
  }

  protected attachAll(policies: readonly PolicyInfo[]): void {
    // Identical selectors, ipBlocks and port lists (frequent) are compiled once and shared.
    const normalize = policyNormalizer();
    const tickPolicies = ticker(this.progress, 'policies', policies.length);
    let done = 0;
    for (const info of policies) {
      tickPolicies(++done);
      this.attachPolicy(this.policyRec(info, normalize(info)));
    }
  }

  protected policyRec(info: PolicyInfo, norm: Policy): PolicyRec {
    const ns = this.internNs(info.namespace);
    const subj = this.internSubj(ns, norm.subject);
    // A policy outside the view (staged, in the enforced view) is kept by name but isolates nothing.
    const on = inView(norm, this.includeAudit);
    return { info, subj, affects: [on && norm.egress, on && norm.ingress], rules: [this.ruleRecs(norm.egressRules, ns), this.ruleRecs(norm.ingressRules, ns)] };
  }

  /** A policy's rules of one direction, peers interned. (Lists of their exact size: they stay in memory.) */
  protected ruleRecs(list: Policy['ingressRules'], ns: number): readonly RuleRec[] {
    if (list.length === 0) return NO_RULES;
    const out = new Array<RuleRec>(list.length);
    const scratch = this.scratch;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      let peers: number[] | undefined;
      if (r.peers) {
        scratch.length = 0;
        for (const p of r.peers) {
          const q = this.internPeer(p, ns);
          if (!scratch.includes(q)) scratch.push(q);
        }
        peers = scratch.slice();
      }
      out[i] = { peers, ports: r.ports };
    }
    return out;
  }

  protected policyNamed(namespace: string, name: string): PolicyRec | undefined {
    this.indexPolicies();
    return this.policies.get(namespace)?.get(name);
  }

  /** Puts the policies attached so far in the index by name (a later one of the same name wins). */
  protected indexPolicies(): void {
    if (this.unindexed.length === 0) return;
    for (const p of this.unindexed) {
      let byName = this.policies.get(p.info.namespace);
      if (!byName) this.policies.set(p.info.namespace, (byName = new Map()));
      if (!byName.has(p.info.name)) this.policyCount++;
      byName.set(p.info.name, p);
    }
    this.unindexed = [];
  }

  protected attachPolicy(p: PolicyRec): void {
    this.unindexed.push(p);
    const s = this.subjs[p.subj]!;
    s.policies.push(p);
    if (p.affects[EGRESS]) s.count[EGRESS]++;
    if (p.affects[INGRESS]) s.count[INGRESS]++;
  }

  protected detachPolicy(p: PolicyRec): void {
    this.indexPolicies();
    if (this.policies.get(p.info.namespace)?.delete(p.info.name)) this.policyCount--;
    const s = this.subjs[p.subj]!;
    const at = s.policies.indexOf(p);
    if (at >= 0) s.policies.splice(at, 1);
    if (p.affects[EGRESS]) s.count[EGRESS]--;
    if (p.affects[INGRESS]) s.count[INGRESS]--;
  }

  protected newGroup(dir: Dir, sels: readonly number[], key = sels.join(',')): number {
    const g: GroupRec = {
      id: this.groups.length,
      dir,
      key,
      sels,
      isolated: sels.length > 0,
      table: new Map(),
      tablePeers: undefined,
      tableAggs: undefined,
      any: undefined,
      named: false,
      members: new Set(),
      weight: 0,
      byProfile: new Map(),
    };
    this.groups.push(g);
    this.groupByKey[dir].set(key, g.id);
    for (const s of sels) this.subjs[s]!.groups.add(g.id);
    if (g.isolated) this.buildTable(g);
    else this.refreshOpen(g);
    return g.id;
  }

  /** Folds the rules of the group's policies into its table `peer -> ports`. */
  protected buildTable(g: GroupRec): void {
    for (const q of g.table.keys()) this.peers[q]!.inGroups[g.dir]?.delete(g.id);
    const table = new Map<number, PortAgg>();
    let any: PortAgg | undefined;
    // An entry starts as the shared aggregate of its first rule's ports, copied if another rule adds.
    const add = (agg: PortAgg | undefined, ports: readonly PortSpec[] | undefined): PortAgg => {
      if (agg === undefined) return PortAgg.of(ports);
      if (agg.shared) return agg.with(ports);
      agg.addRule(ports);
      return agg;
    };
    for (const s of g.sels) {
      for (const p of this.subjs[s]!.policies) {
        if (!p.affects[g.dir]) continue;
        for (const rule of p.rules[g.dir]) {
          if (rule.peers === undefined) {
            any = add(any, rule.ports);
            continue;
          }
          for (const q of rule.peers) table.set(q, add(table.get(q), rule.ports));
        }
      }
    }
    g.table = table;
    g.any = any;
    let named = any?.named ?? false;
    for (const [q, agg] of table) {
      if (agg.named) named = true;
      (this.peers[q]!.inGroups[g.dir] ??= new Set()).add(g.id);
    }
    g.tablePeers = undefined;
    g.tableAggs = undefined;
    g.named = named;
    if (any) this.anyGroups[g.dir].add(g.id);
    else this.anyGroups[g.dir].delete(g.id);
    this.refreshOpen(g);
  }

  /** A group's rules changed or the group is new: is it open now, for each cached probe and profile? */
  protected refreshOpen(g: GroupRec): void {
    for (const cache of this.caches.values()) {
      cache.open.admit[g.id] = undefined;
      cache.open.shared[g.id] = undefined;
      const { protocol, port } = cache.probe;
      const entries = g.dir === INGRESS ? cache.open.dest : cache.open.src;
      for (const [pid, entry] of entries) {
        const set = 'cells' in entry ? entry.cells : entry.groups;
        const w = g.dir === INGRESS ? (g.byProfile.get(pid)?.w ?? 0) : g.weight;
        const now = !g.isolated || (g.any !== undefined && g.any.admits(protocol, port, this.profiles[pid]!));
        if (set.has(g.id) === now) continue;
        if (now) {
          set.add(g.id);
          entry.w += w;
        } else {
          set.delete(g.id);
          entry.w -= w;
        }
      }
    }
  }

  /** `delta` pods of class `c` joined (or left) group `g`: adjust the cached open weights. */
  protected adjustOpen(c: ClassRec, g: GroupRec, delta: number): void {
    if (delta === 0) return;
    for (const cache of this.caches.values()) {
      if (g.dir === INGRESS) {
        const entry = cache.open.dest.get(c.profile.id);
        if (entry && entry.cells.has(g.id)) entry.w += delta;
      } else {
        for (const entry of cache.open.src.values()) if (entry.groups.has(g.id)) entry.w += delta;
      }
    }
  }

  /** Puts a class in the groups its selectors (with policies of each direction) call for. */
  protected regroup(c: ClassRec): void {
    for (const dir of [EGRESS, INGRESS] as const) {
      const sels: number[] = [];
      let key = '';
      for (const s of c.subj) {
        if (this.subjs[s]!.count[dir] === 0) continue;
        key += sels.length === 0 ? `${s}` : `,${s}`;
        sels.push(s);
      }
      const id = this.groupByKey[dir].get(key) ?? this.newGroup(dir, sels, key);
      const current = c.group[dir];
      if (current === id) continue;
      if (current >= 0) this.leaveGroup(c, this.groups[current]!);
      c.group[dir] = id;
      this.joinGroup(c, this.groups[id]!);
    }
  }

  protected joinGroup(c: ClassRec, g: GroupRec): void {
    g.members.add(c.id);
    let cell = g.byProfile.get(c.profile.id);
    if (!cell) g.byProfile.set(c.profile.id, (cell = { w: 0, classes: new Set() }));
    cell.classes.add(c.id);
    cell.w += c.weight;
    g.weight += c.weight;
    this.adjustOpen(c, g, c.weight);
  }

  protected leaveGroup(c: ClassRec, g: GroupRec): void {
    g.members.delete(c.id);
    const cell = g.byProfile.get(c.profile.id)!;
    cell.classes.delete(c.id);
    cell.w -= c.weight;
    g.weight -= c.weight;
    this.adjustOpen(c, g, -c.weight);
  }

  /** Adds `delta` pods to a class and to its groups' weights. */
  protected attachWeight(c: ClassRec, delta: number): void {
    c.weight += delta;
    if (this.building && c.group[0] < 0) return;
    for (const dir of [EGRESS, INGRESS] as const) {
      const g = this.groups[c.group[dir]]!;
      g.weight += delta;
      g.byProfile.get(c.profile.id)!.w += delta;
      this.adjustOpen(c, g, delta);
    }
  }

  // --- access for Eval -----------------------------------------------------------------------------
}

/**
 * What the server knows about one snapshot: its pods in the page's order, the scale engine (the
 * relation the graph and the matrix draw), the explaining engine (check), the policies' documents (the
 * editor), and the effect of an edit.
 *
 * Design choice: the engine stays on the server. The page receives the class x class relation (a few
 * hundred kilobytes at 5,000 pods) and draws the graph and the matrix from it; explanations are asked
 * one at a time. An edit is applied to the same scale engine as a few incremental policy changes, the
 * edited relation is read, and the changes are undone: no second engine (which would double the memory
 * and cost a full build, 1-2 s at 5,000 pods), and the cost of an edit follows the size of the edit.
 *
 * With cluster-scoped policies (AdminNetworkPolicy, ...) the class engine is the tier-aware one
 * (src/scale's classAnalysis, as `netpol matrix` uses), and an edit builds the edited engine (it has no
 * incremental policy changes).
 */
import { Engine, sortPods, type Probe } from '../engine/index.js';
import type { Verdict } from '../engine/index.js';
import { normalizePolicy } from '../policy/index.js';
import { podKey, type Cluster, type PodInfo, type PolicyInfo } from '../model/index.js';
import { classAnalysis, ScaleEngine, withPods, type ClassAnalysis } from '../scale/index.js';
import { checkAnswer, type CheckAnswer, type CheckQuestion } from '../cli/check.js';
import { matrixJsonChunks } from '../cli/matrix.js';
import { UsageError } from '../cli/io.js';
import { policyDocuments, type PolicyDocument } from './documents.js';
import { applyEdits, type Edit, type EditedCluster } from './edits.js';
import { AddressBlocks, externalBlocks, podAddresses, type ExternalBlock } from './external.js';
import type { AddressSet, IP } from '../ip/index.js';
import { diffRelations, pairRelation, podRelation, relationJson, type PodRelation } from './relation.js';
import type { Snapshot } from './source.js';

/** Changed pairs listed per probe in an edit's diff (the counts are always exact). */
export const DIFF_LIST_LIMIT = 500;

export class Workspace {
  readonly pods: readonly PodInfo[];
  private readonly index = new Map<PodInfo, number>();
  private scaleEngine: ClassAnalysis | undefined;
  private engine: Engine | undefined;
  private docs: PolicyDocument[] | undefined;
  private docById: Map<string, PolicyDocument> | undefined;
  private readonly relations = new Map<string, PodRelation | undefined>();
  private podIPs: AddressSet | undefined;
  private blocks: AddressBlocks | undefined;
  private readonly tiered: boolean;

  constructor(
    readonly snapshot: Snapshot,
    readonly defaultNamespace = 'default',
    /** Which snapshot of the source this is (0 first; a live source counts its changes). */
    readonly version = 0,
  ) {
    this.pods = sortPods(snapshot.cluster.pods);
    this.pods.forEach((p, i) => this.index.set(p, i));
    this.tiered = (snapshot.cluster.clusterPolicies?.length ?? 0) > 0;
    if (!snapshot.invalid) this.scaleEngine = classAnalysis(snapshot.cluster);
  }

  get cluster(): Cluster {
    return this.snapshot.cluster;
  }

  /** What answers pair questions: the class engine (tier-aware with cluster-scoped policies). */
  private get pairs(): ClassAnalysis {
    if (!this.scaleEngine) throw new UsageError('the input has errors; the API server would reject it, so it is not analysed');
    return this.scaleEngine;
  }

  private get explainer(): Engine {
    return (this.engine ??= new Engine(this.cluster));
  }

  private summaryText: string | undefined;

  /** `summary` as JSON text, built once. */
  summaryJson(description: string): string {
    return (this.summaryText ??= `${JSON.stringify(this.summary(description))}\n`);
  }

  /** The page's view of the cluster: namespaces, pods (in matrix order) with their isolation, policies. */
  summary(description: string): unknown {
    const c = this.cluster;
    const analysed = !this.snapshot.invalid;
    return {
      source: description,
      version: this.version,
      analysed,
      namespaces: [...c.namespaces.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((n) => ({ name: n.name, labels: n.labels, implicit: n.implicit })),
      pods: this.pods.map((p) => {
        const selected = analysed ? this.explainer.selecting(p) : { ingress: [], egress: [] };
        const tiers =
          this.tiered && analysed ? { ingressTiers: this.explainer.clusterSelecting(p, 'ingress').map((c) => c.key), egressTiers: this.explainer.clusterSelecting(p, 'egress').map((c) => c.key) } : {};
        return {
          namespace: p.namespace,
          name: p.name,
          labels: p.labels,
          ips: p.ips,
          ...(p.workload ? { workload: p.workload } : {}),
          ingressIsolatedBy: selected.ingress.map((x) => x.ref.name),
          egressIsolatedBy: selected.egress.map((x) => x.ref.name),
          ...tiers,
        };
      }),
      policies: c.policies.map((p) => ({ namespace: p.namespace, name: p.name, ...(p.source ? { file: p.source.file, line: p.source.line } : {}) })),
      ...(this.tiered ? { clusterPolicies: (c.clusterPolicies ?? []).map((p) => ({ kind: p.kind, name: p.name, ...(p.source ? { file: p.source.file, line: p.source.line } : {}) })) } : {}),
      diagnostics: this.snapshot.diagnostics,
    };
  }

  /** The relation for one probe, for the page; undefined above the engine's dense limit. */
  reach(probe: Probe): ReturnType<typeof relationJson> | undefined {
    const r = this.relation(probe);
    return r && relationJson(r);
  }

  /**
   * The address blocks the policies name, as nodes: who reaches them and whom they reach (positions of
   * `reach`), among the pods of `namespaces` (all when undefined).
   */
  external(probe: Probe, namespaces?: readonly string[]): { port: number | string; protocol: string; blocks: ExternalBlock[] } | undefined {
    const r = this.relation(probe);
    this.blocks ??= new AddressBlocks(this.explainer, (this.podIPs ??= podAddresses(this.pods)));
    return r && { port: probe.port, protocol: probe.protocol, blocks: externalBlocks(this.blocks, this.explainer, this.pods, r.positions, probe, inNamespaces(namespaces)) };
  }

  /** The address block (its label, as `external` names it) holding `ip`; none while the input has errors. */
  blockOf(ip: IP): string | undefined {
    if (this.snapshot.invalid) return undefined;
    this.blocks ??= new AddressBlocks(this.explainer, (this.podIPs ??= podAddresses(this.pods)));
    return this.blocks.find(ip);
  }

  private relation(probe: Probe): PodRelation | undefined {
    const key = `${probe.protocol}/${probe.port}`;
    if (!this.relations.has(key)) {
      const pairs = this.pairs;
      this.relations.set(key, pairs instanceof ScaleEngine ? podRelation(pairs, this.pods, probe) : pairRelation(pairs, this.pods, probe));
    }
    return this.relations.get(key);
  }

  /** The text of `netpol matrix -o json` (with `-n NS` when `namespace` is given). */
  matrix(probes: readonly Probe[], namespace: string | undefined): string {
    const pairs = this.pairs;
    if (namespace === undefined) return [...matrixJsonChunks(pairs, this.cluster, probes)].join('');
    // As `matrix -n NS`: that namespace's pods, every policy (a verdict depends only on its two ends).
    const c = this.cluster;
    const only = { ...withPods(c, (p) => p.namespace === namespace), ...(c.clusterPolicies ? { clusterPolicies: c.clusterPolicies } : {}), ...(c.nodes ? { nodes: c.nodes } : {}) };
    return [...matrixJsonChunks(classAnalysis(only), only, probes)].join('');
  }

  /** `netpol check -o json`, on the loaded cluster or on it with `edits` applied. */
  check(q: CheckQuestion, edits: readonly Edit[] = []): CheckAnswer {
    if (this.snapshot.invalid) return this.pairs as never;
    if (edits.length === 0) return checkAnswer(this.cluster, q);
    const edited = applyEdits(this.cluster, this.documentMap(), edits, this.defaultNamespace);
    if (edited.invalid) throw new UsageError('the edited policies have errors; fix them to ask about the edited cluster');
    return checkAnswer(edited.cluster, q);
  }

  /** The documents the editor shows. */
  documents(): readonly PolicyDocument[] {
    return (this.docs ??= policyDocuments(this.snapshot.sources, this.cluster.policies));
  }

  private documentMap(): ReadonlyMap<string, PolicyDocument> {
    return (this.docById ??= new Map(this.documents().map((d) => [d.id, d])));
  }

  /** Diagnostics of an edit and, when it is valid, its effect per probe and the edited relations. */
  analyze(edits: readonly Edit[], probes: readonly Probe[], externalNamespaces?: readonly string[] | 'all'): AnalyzeResult {
    const pairs = this.pairs;
    const edited = applyEdits(this.cluster, this.documentMap(), edits, this.defaultNamespace);
    const base = { diagnostics: edited.diagnostics, invalid: edited.invalid, policies: { added: edited.added, changed: edited.changed, removed: edited.removed } };
    if (edited.invalid) return base;
    const before = probes.map((p) => this.relation(p));
    let explainAfter: Engine | undefined;
    let editedBlocks: AddressBlocks | undefined;
    let editedClasses: ClassAnalysis | undefined;
    const after =
      pairs instanceof ScaleEngine
        ? this.whileEdited(pairs, edited, () => probes.map((p) => podRelation(pairs, this.pods, p)))
        : probes.map((p) => pairRelation((editedClasses ??= classAnalysis(edited.cluster)), this.pods, p));
    const touched = new Set([...edited.added, ...edited.changed, ...edited.removed]);
    const probesOut = probes.map((probe, k) => {
      const b = before[k];
      const a = after[k];
      if (!b || !a) return { port: probe.port, protocol: probe.protocol, tooLarge: true };
      const diff = diffRelations(b, a, DIFF_LIST_LIMIT);
      const causes = new Map<string, string[]>();
      const changes = diff.changes.map((c) => {
        const from = this.pods[c.from]!;
        const to = this.pods[c.to]!;
        const key = `${a.positions[c.from]}:${a.positions[c.to]}:${b.positions[c.from]}:${b.positions[c.to]}`;
        let cause = causes.get(key);
        if (!cause) {
          const traffic = { source: { kind: 'pod' as const, pod: from }, destination: { kind: 'pod' as const, pod: to }, protocol: probe.protocol, port: probe.port };
          explainAfter ??= this.editedExplainer(edited);
          cause = policiesOf([this.explainer.evaluate(traffic), explainAfter.evaluate(traffic)], touched);
          causes.set(key, cause);
        }
        return { from: podKey(from), to: podKey(to), change: c.added ? 'added' : 'removed', causes: cause };
      });
      const out = { port: probe.port, protocol: probe.protocol, added: diff.added, removed: diff.removed, changes, truncated: diff.truncated, reach: relationJson(a) };
      if (externalNamespaces === undefined) return out;
      explainAfter ??= this.editedExplainer(edited);
      editedBlocks ??= new AddressBlocks(explainAfter, (this.podIPs ??= podAddresses(this.pods)));
      return { ...out, external: externalBlocks(editedBlocks, explainAfter, this.pods, a.positions, probe, inNamespaces(externalNamespaces === 'all' ? undefined : externalNamespaces)) };
    });
    return { ...base, probes: probesOut };
  }

  /** An explaining engine for the edited cluster, reusing the loaded policies' normalised form. */
  private editedExplainer(edited: EditedCluster): Engine {
    const normalized = new Map(this.explainer.policies.map((p) => [podKey(p.ref), p]));
    const touched = new Set([...edited.added, ...edited.changed]);
    return new Engine(
      edited.cluster,
      edited.cluster.policies.map((p) => (touched.has(podKey(p)) ? normalizePolicy(p) : normalized.get(podKey(p))!)),
    );
  }

  /** Runs `read` on the scale engine with the edit applied, then puts the loaded policies back. */
  private whileEdited<T>(scale: ScaleEngine, edited: EditedCluster, read: () => T): T {
    const target = new Map(edited.cluster.policies.map((p) => [podKey(p), p]));
    const before = new Map(this.cluster.policies.map((p) => [podKey(p), p]));
    const undo: (() => void)[] = [];
    try {
      for (const key of edited.removed) {
        const old = before.get(key)!;
        scale.removePolicy(old.namespace, old.name);
        undo.push(() => scale.upsertPolicy(old));
      }
      for (const key of [...edited.added, ...edited.changed]) {
        const p: PolicyInfo = target.get(key)!;
        const old = before.get(key);
        scale.upsertPolicy(p);
        undo.push(old ? () => scale.upsertPolicy(old) : () => scale.removePolicy(p.namespace, p.name));
      }
      return read();
    } finally {
      for (const u of undo.reverse()) u();
    }
  }
}

export interface AnalyzeResult {
  readonly diagnostics: EditedCluster['diagnostics'];
  readonly invalid: boolean;
  readonly policies: { readonly added: readonly string[]; readonly changed: readonly string[]; readonly removed: readonly string[] };
  readonly probes?: readonly unknown[];
}

function inNamespaces(namespaces: readonly string[] | undefined): ((p: PodInfo) => boolean) | undefined {
  if (namespaces === undefined) return undefined;
  const set = new Set(namespaces);
  return (p) => set.has(p.namespace);
}

/** The edited policies among those that isolate either end, before or after the edit: what changed the verdict. */
function policiesOf(verdicts: readonly Verdict[], touched: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const v of verdicts) {
    for (const side of [v.egress, v.ingress]) for (const p of side.policies) if (touched.has(podKey(p.policy))) out.add(podKey(p.policy));
  }
  return [...out].sort();
}

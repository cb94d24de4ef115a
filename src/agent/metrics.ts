/**
 * The agent's metrics, in the Prometheus text exposition format (version 0.0.4): what the agent did
 * (from its events), how its watches fare (from the cluster source), and what the kernel holds (read
 * from `nft -j list table` at scrape time: set elements, and the packets and bytes each subject chain's
 * deny counter has seen).
 *
 * Per-policy drop counters: a subject chain serves the local pods that exactly some set of policies
 * isolates, and ends in one counted deny rule whose comment names those policies. A packet that chain
 * drops was admitted by none of them, so it counts for each: `netpol_policy_denied_packets_total`
 * summed over a policy is the traffic it (with the others isolating the same pods) kept out. Comments are
 * cut at 128 characters; a chain isolated by more policies than fit names only the first.
 */
import type { AgentEvent } from './agent.js';
import type { DropLog } from './drops.js';
import { isClusterPolicyKind } from '../model/index.js';
import { parseTierRuleComment } from '../nft/index.js';

/** Seconds; apply latencies are milliseconds to a few seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A label value as the exposition format wants it: backslash, double quote and line feed escaped. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(l: Readonly<Record<string, string>>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export interface Sample {
  /** For histogram series (`_bucket`, `_sum`, `_count`): the series name; else the family's. */
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly samples: readonly Sample[];
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

export function renderFamilies(families: readonly Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) out.push(`${s.name ?? f.name}${labels(s.labels ?? {})} ${num(s.value)}`);
  }
  return `${out.join('\n')}\n`;
}

/** What the agent's events say, accumulated. */
export class AgentMetrics {
  applies = 0;
  driftRepairs = 0;
  cuts = 0;
  errors = 0;
  problems = 0;
  ready = false;
  localPods: number | undefined;
  isolatedPods: number | undefined;
  lastApplied: number | undefined;
  private readonly counts = BUCKETS.map(() => 0);
  private sum = 0;
  private count = 0;

  observe(e: AgentEvent): void {
    if (e.kind === 'drift') this.driftRepairs++;
    if (e.kind === 'cut') this.cuts++;
    if (e.kind === 'applied' || e.kind === 'unchanged' || e.kind === 'drift') {
      this.ready = true;
      this.lastApplied = Date.now() / 1000;
      const stats = e;
      if (stats.localPods !== undefined) this.localPods = stats.localPods;
      if (stats.isolatedPods !== undefined) this.isolatedPods = stats.isolatedPods;
    }
    if (e.kind === 'applied') {
      this.applies++;
      if (e.ms !== undefined) {
        const s = e.ms / 1000;
        this.sum += s;
        this.count++;
        BUCKETS.forEach((b, i) => {
          if (s <= b) this.counts[i]!++;
        });
      }
    }
    if (e.kind === 'error') this.errors++;
    if (e.kind === 'problem') this.problems++;
  }

  families(): Family[] {
    const gauge = (name: string, help: string, value: number | undefined): Family[] => (value === undefined ? [] : [{ name, help, type: 'gauge', samples: [{ value }] }]);
    return [
      { name: 'netpol_agent_ready', help: 'Whether the first ruleset has been applied (1) or not yet (0).', type: 'gauge', samples: [{ value: this.ready ? 1 : 0 }] },
      { name: 'netpol_agent_applies_total', help: 'Rulesets applied to the kernel (transactions that changed something).', type: 'counter', samples: [{ value: this.applies }] },
      {
        name: 'netpol_agent_apply_duration_seconds',
        help: 'Time from a snapshot to its rules in the kernel (compile, diff, nft transaction, conntrack cut).',
        type: 'histogram',
        samples: [
          ...BUCKETS.map((b, i) => ({ name: 'netpol_agent_apply_duration_seconds_bucket', labels: { le: String(b) }, value: this.counts[i]! })),
          { name: 'netpol_agent_apply_duration_seconds_bucket', labels: { le: '+Inf' }, value: this.count },
          { name: 'netpol_agent_apply_duration_seconds_sum', value: this.sum },
          { name: 'netpol_agent_apply_duration_seconds_count', value: this.count },
        ],
      },
      {
        name: 'netpol_agent_drift_repairs_total',
        help: 'Times the kernel table differed from what the agent applied (changed by someone else) and was put back in one transaction.',
        type: 'counter',
        samples: [{ value: this.driftRepairs }],
      },
      { name: 'netpol_agent_conntrack_cuts_total', help: 'Conntrack checks that removed connections a change revoked.', type: 'counter', samples: [{ value: this.cuts }] },
      { name: 'netpol_agent_errors_total', help: 'Failed applies (each is retried; the kernel keeps the last applied rules).', type: 'counter', samples: [{ value: this.errors }] },
      {
        name: 'netpol_agent_problems_total',
        help: 'Problems reported: invalid input kept at its last good version, lost API server, rules the node cannot enforce.',
        type: 'counter',
        samples: [{ value: this.problems }],
      },
      ...gauge('netpol_agent_local_pods', 'Pods on this node (spec.nodeName), as of the last snapshot.', this.localPods),
      ...gauge('netpol_agent_isolated_pods', 'Local pods that some policy isolates, as of the last snapshot.', this.isolatedPods),
      ...gauge('netpol_agent_last_apply_timestamp_seconds', 'When the kernel last matched a snapshot (Unix time).', this.lastApplied),
    ];
  }
}

/**
 * What the kernel's table says: set and map elements, the deny and audit counters per policy, and the counter of
 * every admitting rule (comment `ns/name ingress[0]`, src/nft/names.ts `ruleComment`) summed per policy
 * rule: one policy rule is several nft rules (address families, protocols) in every chain of pods the
 * policy isolates together with others.
 */
export function kernelFamilies(json: unknown): Family[] {
  const items = ((json as { nftables?: unknown[] } | undefined)?.nftables ?? []) as Record<string, Record<string, unknown>>[];
  let elements = 0;
  type PerPolicy = Map<string, { namespace: string; policy: string; direction: string; packets: number; bytes: number }>;
  const denied: PerPolicy = new Map();
  // Audit tails (src/nft/audit.ts): what staged policies would have dropped, accepted.
  const audited: PerPolicy = new Map();
  const admitted = new Map<string, { namespace: string; policy: string; direction: string; rule: string; packets: number; bytes: number }>();
  // Deny rules of cluster-scoped policies (src/nft/tiers.ts `tierRuleComment`), enforcing or staged.
  type PerClusterRule = Map<string, { kind: string; policy: string; direction: string; rule: string; packets: number; bytes: number }>;
  const clusterDenied: PerClusterRule = new Map();
  const clusterAudited: PerClusterRule = new Map();
  for (const item of items) {
    const set = item.set ?? item.map;
    if (set && Array.isArray(set.elem)) elements += set.elem.length;
    const rule = item.rule;
    if (!rule || typeof rule.comment !== 'string' || !Array.isArray(rule.expr)) continue;
    const m = /^(ingress|egress) (denied: isolated|audit: would be denied) by (.*)$/.exec(rule.comment);
    const counter = (rule.expr as Record<string, { packets?: number; bytes?: number }>[]).find((x) => x.counter)?.counter;
    const r = /^([^/\s]+)\/(\S+) (ingress|egress)\[(\d+)\]$/.exec(rule.comment);
    // A key cut short (`...`) would count under a name no policy has.
    if (r && counter && !r[2]!.endsWith('...') && typeof rule.chain === 'string' && /^(ingress|egress)_/.test(rule.chain)) {
      const id = rule.comment;
      const a = admitted.get(id) ?? { namespace: r[1]!, policy: r[2]!, direction: r[3]!, rule: r[4]!, packets: 0, bytes: 0 };
      a.packets += counter.packets ?? 0;
      a.bytes += counter.bytes ?? 0;
      admitted.set(id, a);
      continue;
    }
    const t = parseTierRuleComment(rule.comment);
    if (t && counter) {
      const into = t.audit ? clusterAudited : clusterDenied;
      const id = `${t.kind} ${t.name} ${t.direction}[${t.index}]`;
      const c = into.get(id) ?? { kind: t.kind, policy: t.name, direction: t.direction, rule: String(t.index), packets: 0, bytes: 0 };
      c.packets += counter.packets ?? 0;
      c.bytes += counter.bytes ?? 0;
      into.set(id, c);
      continue;
    }
    if (!m || !counter) continue;
    const direction = m[1]!;
    const into = m[2] === 'denied: isolated' ? denied : audited;
    // Keys are namespace/name; a comment cut short ends in "..." and its last key is incomplete.
    const keys = m[3]!.split(', ').filter((k) => !k.endsWith('...'));
    for (const key of keys) {
      const slash = key.indexOf('/');
      if (slash < 0) continue;
      const id = `${direction} ${key}`;
      const d = into.get(id) ?? { namespace: key.slice(0, slash), policy: key.slice(slash + 1), direction, packets: 0, bytes: 0 };
      d.packets += counter.packets ?? 0;
      d.bytes += counter.bytes ?? 0;
      into.set(id, d);
    }
  }
  const per = (map: PerPolicy, field: 'packets' | 'bytes') =>
    [...map.values()]
      .sort((a, b) => (a.namespace + a.policy + a.direction < b.namespace + b.policy + b.direction ? -1 : 1))
      .map((r) => ({ labels: { namespace: r.namespace, policy: r.policy, direction: r.direction }, value: r[field] }));
  const rules = [...admitted.values()].sort((a, b) => (a.namespace + a.policy + a.direction + a.rule.padStart(6, '0') < b.namespace + b.policy + b.direction + b.rule.padStart(6, '0') ? -1 : 1));
  const perRule = (field: 'packets' | 'bytes') => rules.map((r) => ({ labels: { namespace: r.namespace, policy: r.policy, direction: r.direction, rule: r.rule }, value: r[field] }));
  const perClusterRule = (map: PerClusterRule, field: 'packets' | 'bytes') =>
    [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => ({ labels: { kind: r.kind, policy: r.policy, direction: r.direction, rule: r.rule }, value: r[field] }));
  return [
    { name: 'netpol_set_elements', help: "Elements in the sets and maps of the node's nftables table.", type: 'gauge', samples: [{ value: elements }] },
    {
      name: 'netpol_policy_denied_packets_total',
      help: 'Packets dropped at local pods this policy isolates (counted for every policy isolating them).',
      type: 'counter',
      samples: per(denied, 'packets'),
    },
    { name: 'netpol_policy_denied_bytes_total', help: 'Bytes dropped at local pods this policy isolates (counted for every policy isolating them).', type: 'counter', samples: per(denied, 'bytes') },
    {
      name: 'netpol_policy_audited_packets_total',
      help: 'Packets accepted at local pods that only audit-mode policies isolate, which this staged policy would drop once enforcing: the first of each such connection (counted for every staged policy isolating them).',
      type: 'counter',
      samples: per(audited, 'packets'),
    },
    { name: 'netpol_policy_audited_bytes_total', help: 'Bytes of the packets netpol_policy_audited_packets_total counts.', type: 'counter', samples: per(audited, 'bytes') },
    {
      name: 'netpol_rule_admitted_packets_total',
      help: 'Packets this policy rule admitted: the first of each new connection (later packets and replies pass conntrack before any rule). rule: the index in spec.ingress or spec.egress.',
      type: 'counter',
      samples: perRule('packets'),
    },
    { name: 'netpol_rule_admitted_bytes_total', help: 'Bytes of the first packets of connections this policy rule admitted.', type: 'counter', samples: perRule('bytes') },
    {
      name: 'netpol_cluster_rule_denied_packets_total',
      help: 'Packets a Deny rule of a cluster-scoped policy dropped or rejected at local pods (a Pass rule that fails closed counts as one). kind: ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy; rule: the index in spec.ingress or spec.egress.',
      type: 'counter',
      samples: perClusterRule(clusterDenied, 'packets'),
    },
    { name: 'netpol_cluster_rule_denied_bytes_total', help: 'Bytes of the packets netpol_cluster_rule_denied_packets_total counts.', type: 'counter', samples: perClusterRule(clusterDenied, 'bytes') },
    {
      name: 'netpol_cluster_rule_audited_packets_total',
      help: 'Packets accepted today that a Deny rule of a staged (audit-mode) cluster-scoped policy would drop once enforcing: the first of each such connection.',
      type: 'counter',
      samples: perClusterRule(clusterAudited, 'packets'),
    },
    {
      name: 'netpol_cluster_rule_audited_bytes_total',
      help: 'Bytes of the packets netpol_cluster_rule_audited_packets_total counts.',
      type: 'counter',
      samples: perClusterRule(clusterAudited, 'bytes'),
    },
  ];
}

/** The drop log's counters: events per policy, what became of our log lines, and events lost by cause. */
export function dropFamilies(log: DropLog): Family[] {
  const events = [...log.counts.events.values()]
    .map((e) => {
      // `ns/name` for a NetworkPolicy, `Kind/name` for a cluster-scoped policy's rule (no namespace).
      const slash = e.policy.indexOf('/');
      const [first, name] = slash < 0 ? ['', ''] : [e.policy.slice(0, slash), e.policy.slice(slash + 1)];
      const cluster = isClusterPolicyKind(first);
      return { labels: { action: e.action, direction: e.direction, kind: cluster ? first : 'NetworkPolicy', namespace: cluster ? '' : first, policy: name }, value: e.count };
    })
    .sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1));
  const record = (r: Readonly<Record<string, number>>, label: string) => Object.entries(r).map(([k, value]) => ({ labels: { [label]: k }, value }));
  return [
    {
      name: 'netpol_drop_events_total',
      help: 'Drop (and audit) events reported, per policy isolating the subject (an event counts for each), or per cluster-scoped policy whose rule denied (kind, namespace empty).',
      type: 'counter',
      samples: events,
    },
    {
      name: 'netpol_drop_log_lines_total',
      help: "Kernel log lines of ours read: event (a new connection attempt), repeat (counted on its event), other-node (a subject that is not this node's pod).",
      type: 'counter',
      samples: record(log.counts.lines, 'result'),
    },
    {
      name: 'netpol_drop_events_lost_total',
      help: 'Drop events lost: ring-overflow (pushed out before any reader fetched them), kernel-log-overrun (log records overwritten before read), kernel-suppressed (messages the kernel rate limiter suppressed), unparsed.',
      type: 'counter',
      samples: record(log.counts.lost, 'reason'),
    },
  ];
}

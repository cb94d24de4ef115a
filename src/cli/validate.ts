/** `netpol validate`: every problem the API server (and kubectl's strict decoding) would report. */
import { ObjectMap, type ObjectRef } from '../diag/index.js';
import type { Cluster } from '../model/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, reportDiagnostics } from './input.js';
import { EXIT, type IO } from './io.js';
import { diagnosticText } from './render/diagnostic.js';
import { safeText, structured } from './render/escape.js';

export async function validateCommand(flags: GlobalFlags, io: IO): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'json', 'yaml', 'name'] as const, 'text');
  const input = await readInput(flags, io);
  if (format === 'name') {
    // kubectl's `-o name`: the objects (here: the valid ones) as `kind.group/name` lines; problems on stderr.
    reportDiagnostics(io, input.diagnostics);
    const invalid = ObjectMap.of(input.diagnostics);
    for (const o of objectsOf(input.cluster, input.sources?.map((s) => s.file) ?? [])) if (!invalid.has(o.ref)) io.stdout(`${safeText(o.name)}\n`);
    if (input.unreadable) return EXIT.ERROR;
    return input.invalid ? EXIT.NEGATIVE : EXIT.OK;
  }
  const findings = input.diagnostics.filter((d) => d.severity !== 'info');
  reportDiagnostics(
    io,
    input.diagnostics.filter((d) => d.severity === 'info'),
  );
  if (format !== 'text') {
    io.stdout(structured({ diagnostics: findings }, format, 2));
  } else {
    for (const d of findings) io.stdout(`${diagnosticText(d)}\n`);
    const errors = findings.filter((d) => d.severity === 'error').length;
    const warnings = findings.length - errors;
    const c = input.cluster;
    const counts = `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
    if (errors === 0) {
      io.stdout(
        `valid: ${plural(c.policies.length, 'NetworkPolicy', 'NetworkPolicies')}, ${c.clusterPolicies ? `${plural(c.clusterPolicies.length, 'cluster-scoped policy', 'cluster-scoped policies')}, ` : ''}${plural(c.pods.length, 'pod')}, ${plural(c.namespaces.size, 'namespace')}${c.services ? `, ${plural(c.services.length, 'Service')}` : ''}${warnings ? ` (${plural(warnings, 'warning')})` : ''}\n`,
      );
    } else {
      const files = new Set(findings.filter((d) => d.severity === 'error').map((d) => d.file ?? '')).size;
      io.stdout(`invalid: ${counts} in ${plural(files, 'source')}\n`);
    }
  }
  if (input.unreadable) return EXIT.ERROR;
  return input.invalid ? EXIT.NEGATIVE : EXIT.OK;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** kubectl's resource names (`kubectl get -o name`): the kind in lower case, with the API group when it has one. */
const RESOURCE: Readonly<Record<string, string>> = {
  Namespace: 'namespace',
  Pod: 'pod',
  Service: 'service',
  Node: 'node',
  ReplicationController: 'replicationcontroller',
  NetworkPolicy: 'networkpolicy.networking.k8s.io',
  Deployment: 'deployment.apps',
  ReplicaSet: 'replicaset.apps',
  StatefulSet: 'statefulset.apps',
  DaemonSet: 'daemonset.apps',
  Job: 'job.batch',
  CronJob: 'cronjob.batch',
  ClusterNetworkPolicy: 'clusternetworkpolicy.policy.networking.k8s.io',
  AdminNetworkPolicy: 'adminnetworkpolicy.policy.networking.k8s.io',
  BaselineAdminNetworkPolicy: 'baselineadminnetworkpolicy.policy.networking.k8s.io',
};

/**
 * Every object the input declared, in file and line order: `name` as kubectl prints it (no namespace,
 * as kubectl's `-o name`), `ref` as diagnostics refer to it.
 */
function objectsOf(c: Cluster, files: readonly string[]): { name: string; ref: ObjectRef }[] {
  const all: (ObjectRef & { source?: { file?: string; line?: number; column?: number } })[] = [
    ...[...c.namespaces.values()].filter((n) => !n.implicit).map((n) => ({ kind: 'Namespace', name: n.name, ...(n.source ? { source: n.source } : {}) })),
    ...c.pods.map((p) => ({ kind: p.workload?.kind ?? 'Pod', namespace: p.namespace, name: p.name, ...(p.source ? { source: p.source } : {}) })),
    ...c.policies.map((p) => ({ kind: 'NetworkPolicy', namespace: p.namespace, name: p.name, ...(p.source ? { source: p.source } : {}) })),
    ...(c.clusterPolicies ?? []).map((p) => ({ kind: p.kind, name: p.name, ...(p.source ? { source: p.source } : {}) })),
    ...(c.nodes ?? []).map((n) => ({ kind: 'Node', name: n.name, ...(n.source ? { source: n.source } : {}) })),
    ...(c.services ?? []).map((s) => ({ kind: 'Service', namespace: s.namespace, name: s.name, ...(s.source ? { source: s.source } : {}) })),
  ];
  const order = new Map(files.map((f, i) => [f, i]));
  const rank = (f: string | undefined) => order.get(f ?? '') ?? order.size;
  return all
    .sort((a, b) => rank(a.source?.file) - rank(b.source?.file) || (a.source?.line ?? 0) - (b.source?.line ?? 0) || (a.source?.column ?? 0) - (b.source?.column ?? 0))
    .map((o) => ({ name: `${RESOURCE[o.kind] ?? o.kind.toLowerCase()}/${o.name}`, ref: o }));
}

/**
 * `netpol lab`: pods as network namespaces on this machine, real packets.
 *
 *   lab run -f DIR [--nodes K] [--port P]... [--protocol P]... [-o table|json]
 *       build, enforce with one `netpol agent` per node, probe every ordered pair, compare with the
 *       engine, tear down (also on failure and Ctrl-C). Exit 1 when kernel and engine disagree.
 *   lab up -f DIR [--nodes K] [--id ID]     build and keep (rules compiled and loaded once per node)
 *   lab up|run ... --control-plane           a real etcd + kube-apiserver holds the cluster; one agent per
 *                                            node watches it (kubectl changes what the kernel enforces)
 *   lab probe ID [--port P]... [--protocol P]... [-o table|json]
 *   lab down ID | --all                      remove a lab (or every lab, including kept ones)
 *   lab list                                 labs on this machine, and leftovers
 */
import { Engine, reachability, sortPods, type Probe, type Reachability } from '../engine/index.js';
import { agentEnforcer, cleanupLabs, compiledEnforcer, kubeEnforcer, LabError, labDown, labProbe, labUp, listLabs, runLabReport, type Enforcer, type KubeEnforcer } from '../lab/index.js';
import type { Cluster, PodInfo } from '../model/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, refusal, reportDiagnostics } from './input.js';
import { EXIT, UsageError, type IO } from './io.js';
import { safeJson, safeMessage, safeText } from './render/escape.js';
import { renderTable } from './render/matrix.js';
import { parsePort, parseProtocol } from './resolve.js';

export const LAB_OPTIONS = {
  nodes: { type: 'string' },
  port: { type: 'string', short: 'p', multiple: true },
  protocol: { type: 'string', multiple: true },
  id: { type: 'string' },
  all: { type: 'boolean' },
  'deny-action': { type: 'string' },
  enforcer: { type: 'string' },
  'control-plane': { type: 'boolean' },
} as const;

function probesOf(values: Record<string, unknown>): Probe[] {
  const ports = ((values.port as string[] | undefined) ?? ['80']).map(parsePort);
  const protocols = [...new Set(((values.protocol as string[] | undefined) ?? ['TCP']).map(parseProtocol))];
  if (protocols.includes('SCTP')) throw new UsageError('the lab probes TCP and UDP only (this kernel has no SCTP sockets; SCTP rules are checked with nft -c)');
  return protocols.flatMap((protocol) => ports.map((port) => ({ port, protocol })));
}

function nodesOf(values: Record<string, unknown>): number {
  const n = values.nodes === undefined ? 1 : Number(values.nodes);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new UsageError(`--nodes ${String(values.nodes)}: a whole number from 1 to 16`);
  return n;
}

function denyAction(values: Record<string, unknown>): 'drop' | 'reject' {
  const v = values['deny-action'] ?? 'drop';
  if (v !== 'drop' && v !== 'reject') throw new UsageError(`--deny-action ${String(v)}: use drop or reject`);
  return v;
}

async function analysableInput(flags: GlobalFlags, io: IO): Promise<Cluster | undefined> {
  const input = await readInput(flags, io);
  reportDiagnostics(io, input.diagnostics);
  if (input.unreadable || input.invalid) {
    io.stderr(refusal(input, 'enforced'));
    return undefined;
  }
  return input.cluster;
}

/** Pods of the lab's result, in its order (for the table renderer). */
function podsOf(r: Reachability, cluster: Cluster | undefined): PodInfo[] {
  return r.pods.map((key) => {
    const found = cluster?.pods.find((p) => `${p.namespace}/${p.name}` === key);
    const [namespace = '', name = ''] = key.split('/');
    return found ?? { namespace, name, labels: {}, ips: [], ports: [] };
  });
}

function printResult(io: IO, format: 'table' | 'json', r: Reachability, cluster: Cluster | undefined): void {
  if (format === 'json') io.stdout(`${safeJson(r)}\n`);
  else r.probes.forEach((p, k) => io.stdout(`${k > 0 ? '\n' : ''}${renderTable(podsOf(r, cluster), p)}`));
}

export async function labCommand(flags: GlobalFlags, values: Record<string, unknown>, positionals: string[], io: IO): Promise<number> {
  const [action, ...rest] = positionals;
  try {
    switch (action) {
      case 'run':
        return await labRun(flags, values, io);
      case 'up': {
        const format = outputFormat(flags.output, ['text', 'json'] as const, 'text');
        const cluster = await analysableInput(flags, io);
        if (!cluster) return EXIT.ERROR;
        const kube = values['control-plane'] === true ? kubeEnforcer({ denyAction: denyAction(values) }) : undefined;
        const state = await labUp(cluster, { nodes: nodesOf(values), enforcer: kube ?? compiledEnforcer({ denyAction: denyAction(values) }), ...(values.id ? { id: values.id as string } : {}) });
        const info = kube?.info;
        if (format === 'json') {
          const nodes = state.layout.nodes.map((n) => n.name);
          io.stdout(`${JSON.stringify({ id: state.id, nodes, pods: state.layout.pods.length, ...(info ? { kubeconfig: info.kubeconfig, server: info.server, agents: info.agents } : {}) })}\n`);
          return EXIT.OK;
        }
        io.stdout(`${state.id}\n`);
        if (info) {
          io.stderr(
            `lab ${state.id} is up with a control plane at ${info.server}; one netpol agent per node watches it.\n` +
              `  kubectl --kubeconfig ${info.kubeconfig} get pods -A     change labels and policies; the kernel follows\n` +
              `  netpol lab probe ${state.id} --port 80        probe every pair\n` +
              `  netpol lab down ${state.id}                   remove it (and the control plane)\n`,
          );
          return EXIT.OK;
        }
        io.stderr(
          `lab ${state.id} is up: ${state.layout.pods.length} pods on ${state.layout.nodes.length} node(s), rules compiled and loaded once per node.\n` +
            `  netpol lab probe ${state.id} --port 80        probe every pair\n` +
            `  ip netns exec ${state.layout.pods[0]?.netns ?? '<pod netns>'} sh   a shell in a pod\n` +
            `  netpol lab down ${state.id}                   remove it\n`,
        );
        return EXIT.OK;
      }
      case 'probe': {
        const id = rest[0];
        if (!id) throw new UsageError('lab probe needs the lab id (see netpol lab list)');
        const format = outputFormat(flags.output, ['table', 'json'] as const, 'table');
        const report = await labProbe(id, probesOf(values));
        printResult(io, format, report.reachability, undefined);
        return EXIT.OK;
      }
      case 'down': {
        if (values.all === true) {
          const reports = await cleanupLabs({ all: true });
          io.stdout(reports.length === 0 ? 'no labs\n' : reports.map((r) => `removed ${r.id}\n`).join(''));
          return EXIT.OK;
        }
        const id = rest[0];
        if (!id) throw new UsageError('lab down needs the lab id, or --all');
        await labDown(id);
        io.stdout(`removed ${id}\n`);
        return EXIT.OK;
      }
      case 'list': {
        const labs = await listLabs();
        if (flags.output === 'json') io.stdout(`${safeJson(labs.map((l) => ({ id: l.id, status: l.status, namespaces: l.namespaces.length })))}\n`);
        else io.stdout(labs.length === 0 ? 'no labs\n' : labs.map((l) => `${l.id}\t${l.status}\t${l.namespaces.length} namespaces\n`).join(''));
        return EXIT.OK;
      }
      default:
        throw new UsageError(action === undefined ? 'lab needs an action: run, up, probe, down or list' : `unknown lab action "${action}": use run, up, probe, down or list`);
    }
  } catch (e) {
    if (e instanceof LabError) {
      io.stderr(`error: ${safeMessage(e.message)}\n`);
      return EXIT.ERROR;
    }
    throw e;
  }
}

async function labRun(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  const format = outputFormat(flags.output, ['table', 'json'] as const, 'table');
  const probes = probesOf(values);
  const nodes = nodesOf(values);
  const cluster = await analysableInput(flags, io);
  if (!cluster) return EXIT.ERROR;
  const kind = values.enforcer ?? 'agent';
  if (kind !== 'agent' && kind !== 'nft') throw new UsageError(`--enforcer ${String(kind)}: use agent (one netpol agent per node) or nft (rules compiled once)`);
  if (values['control-plane'] === true && kind !== 'agent') throw new UsageError('--control-plane runs agents in cluster mode: it does not combine with --enforcer nft');
  const enforcer: Enforcer | KubeEnforcer =
    values['control-plane'] === true
      ? kubeEnforcer({ denyAction: denyAction(values) })
      : kind === 'agent'
        ? agentEnforcer({ denyAction: denyAction(values) })
        : compiledEnforcer({ denyAction: denyAction(values) });
  const report = await runLabReport(cluster, { probes, nodes, enforcer, handleSignals: true });
  for (const d of report.diagnostics) io.stderr(`Warning: ${safeMessage(d.message)}\n`);
  printResult(io, format, report.reachability, cluster);

  // The point of the lab: does the kernel do what the engine predicts? (Pods the manifests give no IP get
  // a lab IP outside every ipBlock, so the engine's answer for them holds in the lab too.)
  const predicted = reachability(new Engine(cluster), sortPods(cluster.pods), probes);
  const differences: string[] = [];
  predicted.probes.forEach((p, k) =>
    p.allowed.forEach((row, i) =>
      row.forEach((want, j) => {
        const got = report.reachability.probes[k]?.allowed[i]?.[j];
        if (got !== want) differences.push(`${predicted.pods[i]} -> ${predicted.pods[j]} ${p.protocol}/${p.port}: engine ${want ? 'allows' : 'denies'}, kernel ${got ? 'allowed' : 'denied'}`);
      }),
    ),
  );
  const pairs = predicted.pods.length * predicted.pods.length * probes.length;
  if (differences.length === 0) io.stderr(`kernel and engine agree on all ${pairs} probes (${nodes} node${nodes > 1 ? 's' : ''}, enforced by ${enforcer.name})\n`);
  else io.stderr(`kernel and engine DISAGREE on ${differences.length} of ${pairs} probes:\n${differences.map((d) => `  ${safeText(d)}\n`).join('')}`);
  return differences.length === 0 ? EXIT.OK : EXIT.NEGATIVE;
}

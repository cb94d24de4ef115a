/**
 * Enforcement plugs into the lab through one small interface: `start(lab)` puts the lab cluster's
 * policies in force on the lab's nodes, `stop()` removes them. The lab does not know how: a ruleset per
 * node loaded with `nft -f` (here), or an agent process per node (`netpol agent`, agent-enforcer.ts)
 * started with `lab.spawn(node.netns, ...)`.
 *
 * Contract for implementations: keep every piece of state inside the lab's node namespaces (rulesets,
 * processes started through `lab.spawn`), so that deleting the namespaces, which `labDown` does from the
 * persisted layout alone, removes it all even when `stop()` never ran.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Cluster } from '../model/index.js';
import { compileNode, renderRuleset, type CompileOptions } from '../nft/index.js';
import { LabError, type ExecOptions, type ExecResult } from './exec.js';
import type { LabLayout, LayoutNode } from './plan.js';

/** What an enforcer sees of a running lab. */
export interface LabHandle {
  readonly id: string;
  readonly layout: LabLayout;
  /** The lab cluster: pods with their lab IPs and lab node names (`layout.nodes[k].name`). */
  readonly cluster: Cluster;
  /** The lab's private directory (state, sockets); an enforcer may write files here. */
  readonly runDir: string;
  /** Absolute paths of the tools found by the prerequisite check (`ip`, `nft`, ...). */
  readonly tools: Readonly<Record<string, string>>;
  /** Runs a program inside one of the lab's namespaces; throws a LabError unless it exits 0. */
  exec(netns: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running program inside one of the lab's namespaces; the lab kills it at teardown. */
  spawn(netns: string, argv: readonly string[], options?: SpawnOptions): ChildProcess;
}

export interface Enforcer {
  /** For messages: `nft`, `agent`, ... */
  readonly name: string;
  /** Tools the enforcer runs (checked, with `ip`, before anything is built). */
  readonly requires: readonly string[];
  start(lab: LabHandle): Promise<void>;
  stop(): Promise<void>;
}

/** The ruleset text (for `nft -f`) one node should run, or undefined for none. */
export type RulesetSource = (lab: LabHandle, node: LayoutNode) => string | undefined | Promise<string | undefined>;

/**
 * Loads a ruleset into each node's namespace with `nft -f -` (each one a single atomic transaction), and
 * flushes the node's ruleset on stop. The node namespaces belong to the lab, so flushing them whole is safe.
 */
export function nftEnforcer(rules: RulesetSource, name = 'nft'): Enforcer {
  let lab: LabHandle | undefined;
  const applied: LayoutNode[] = [];
  return {
    name,
    requires: ['nft'],
    async start(handle) {
      lab = handle;
      const nft = handle.tools.nft ?? 'nft';
      await Promise.all(
        handle.layout.nodes.map(async (node) => {
          const text = await rules(handle, node);
          if (text === undefined) return;
          try {
            await handle.exec(node.netns, [nft, '-f', '-'], { input: text });
          } catch (e) {
            throw new LabError('command-failed', `loading the ruleset of ${node.name} failed: ${(e as Error).message}`, {
              stderr: (e as LabError).details?.stderr ?? '',
            });
          }
          applied.push(node);
        }),
      );
    },
    async stop() {
      if (!lab) return;
      const handle = lab;
      const nft = handle.tools.nft ?? 'nft';
      await Promise.allSettled(applied.splice(0).map((node) => handle.exec(node.netns, [nft, 'flush', 'ruleset'])));
    },
  };
}

/** The same hand-written ruleset per node (keyed by node index or name); for tests of the plumbing. */
export function staticEnforcer(rulesets: Readonly<Record<string, string>>): Enforcer {
  return nftEnforcer((_lab, node) => rulesets[node.name] ?? rulesets[String(node.index)], 'static-nft');
}

/**
 * Compiles the lab cluster for each lab node with src/nft and loads it. `options` go to `compileNode`
 * alongside the node name (e.g. a deny action).
 */
export function compiledEnforcer(options: Omit<CompileOptions, 'node'> = {}): Enforcer {
  return nftEnforcer((lab, node) => renderRuleset(compileNode(lab.cluster, { ...options, node: node.name })), 'nft-compiled');
}

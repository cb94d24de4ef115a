/**
 * The command line. `run(argv, io)` is the whole program, testable in-process; `main()` wires it to the
 * process. Every failure becomes a message and an exit code here, never a stack trace.
 */
import { once } from 'node:events';
import { globalFlags, nearest, parse, type OptionSpec } from './args.js';
import { agentCommand, AGENT_OPTIONS } from './agent.js';
import { checkCommand, CHECK_OPTIONS } from './check.js';
import { diffCommand, DIFF_OPTIONS } from './diff.js';
import { dropsCommand, DROPS_OPTIONS } from './drops.js';
import { labCommand, LAB_OPTIONS } from './lab.js';
import { lintCommand, LINT_OPTIONS } from './lint.js';
import { EXIT, UsageError, type IO } from './io.js';
import { matrixCommand, MATRIX_OPTIONS } from './matrix.js';
import { safeMessage } from './render/escape.js';
import { completionScript } from './completion.js';
import { commandHelp } from './help.js';
import { wantsColour } from './render/colour.js';
import { validateCommand } from './validate.js';
import { watchCommand, WATCH_OPTIONS } from './watch.js';
import { serveCommand, SERVE_OPTIONS } from '../server/index.js';

export type { IO } from './io.js';
export { EXIT } from './io.js';

export const VERSION = '0.1.0';

const USAGE = `netpol: Kubernetes NetworkPolicy, checked before and after you apply it.

Usage:
  netpol validate -f PATH...                      validate as the API server would (exit 1 when invalid)
  netpol check -f PATH... --from SRC --to DST     one connection: verdict and why (exit 1 when denied)
        [--port N|NAME] [--protocol TCP|UDP|SCTP]   SRC/DST: NS/POD, POD (in -n), or an IP address
  netpol matrix -f PATH... [--port P]... [--protocol P]...   who can reach whom (default TCP/80)
  netpol agent --node NAME -f DIR [--deny-action drop|reject] [--existing-connections cut|keep] [--state-dir DIR] [--verify-interval S] [--once]
                                                  enforce with nftables on this node (root)
  netpol agent --node NAME [--kubeconfig FILE] [--context NAME] [--listen ADDR|none]
                                                  the same, watching the API server (in a pod: its
                                                  service account; NODE_NAME from the downward API)
  netpol drops [--agent URL] [-o text|wide|json]  the agent's recent drop events (--log-denied), with
                                                  the policies and the netpol check that explains each
  netpol lab run -f PATH... [--nodes K] [--port P]... [--protocol TCP|UDP]...
                                                  pods as network namespaces, real packets, compared
                                                  with the engine (root; exit 1 on any disagreement)
  netpol lab up|probe ID|down ID|list             keep a lab for interactive use
  netpol lab up|run ... --control-plane [-o json] the lab cluster in a real kube-apiserver, agents
                                                  watching it: kubectl changes what the kernel enforces
  netpol diff OLD NEW [--port P]... [--protocol P]...   what a change does to reachability, with causes
                                                  OLD/NEW: FILE|DIR|-|git:REV:PATH|cluster (exit 1 when changed)
  netpol lint -f PATH... [--disable ID]...        the classic mistakes, as text|json|sarif (exit 1 on errors)
  netpol watch [-n NS|-A] [--port P]... [--protocol P]...   follow the live cluster: each change and
                                                  the allowed pairs it adds and removes
  netpol completion bash|zsh|fish                 shell completion
  netpol serve -f PATH... [--address 127.0.0.1] [--port 8080] [--agent URL]...
                                                  the web page: graph, matrix, explanations, editor,
                                                  and the agents' recent drops
  netpol serve [--context NAME] [-n NS|-A] [--discover-agents]   the same page following the live cluster
  netpol version

Every command has its own page: netpol COMMAND --help (or netpol help COMMAND).

Without -f, validate, check and matrix read the live cluster of the current kubeconfig context (as
kubectl does: KUBECONFIG, ~/.kube/config, or the pod's service account), e.g. kubectl netpol matrix -A.

Flags (kubectl style):
  -f, --filename PATH   file, directory or - for stdin (repeatable)
  -R, --recursive       descend into directories
  -n, --namespace NS    namespace for objects and names without one; matrix: show only NS
  -A, --all-namespaces  matrix: show every namespace (the default with -f; from a cluster
                        the default is the context's namespace, as in kubectl)
  -o, --output FORMAT   validate/check: text|json|yaml; matrix: table|wide|json|yaml|csv|md|dot|mermaid|html;
                        diff: text|json|md; lint: text|json|sarif
  --kubeconfig FILE     read the cluster of this kubeconfig (instead of KUBECONFIG / ~/.kube/config)
  --context NAME        use this kubeconfig context
  --overlay             with -f: the cluster as it would be after applying the files
  -h, --help            this help

Exit codes: 0 valid/allowed, 1 invalid/denied, 2 usage error, unreadable or invalid input.
Docs: docs/cli.md, docs/semantics.md
`;

type Runner = (f: ReturnType<typeof globalFlags>, v: Record<string, unknown>, io: IO, positionals: string[]) => Promise<number>;

const COMMANDS: Record<string, { options: Record<string, unknown>; run: Runner; positionals?: true }> = {
  validate: { options: {}, run: (f, _v, io) => validateCommand(f, io) },
  check: { options: CHECK_OPTIONS, run: checkCommand },
  matrix: { options: MATRIX_OPTIONS, run: matrixCommand },
  agent: { options: AGENT_OPTIONS, run: (f, v, io) => agentCommand(f, v, io) },
  drops: { options: DROPS_OPTIONS, run: dropsCommand },
  watch: { options: WATCH_OPTIONS, run: watchCommand },
  lab: { options: LAB_OPTIONS, run: (f, v, io, p) => labCommand(f, v, p, io), positionals: true },
  diff: { options: DIFF_OPTIONS, run: diffCommand, positionals: true },
  lint: { options: LINT_OPTIONS, run: (f, v, io) => lintCommand(f, v, io, VERSION) },
  completion: { options: {}, run: async (_f, _v, io, p) => (io.stdout(completionScript(p[0], completable())), EXIT.OK), positionals: true },
  serve: { options: SERVE_OPTIONS, run: serveCommand },
};

/** Every command's flags, for completion scripts. */
function completable(): Record<string, OptionSpec> {
  return Object.fromEntries(Object.entries(COMMANDS).map(([name, c]) => [name, c.options as OptionSpec]));
}

export async function run(argv: string[], io: IO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined && commandHelp(rest[0]) !== undefined) {
    io.stdout(commandHelp(rest[0])!);
    return EXIT.OK;
  }
  if (name === undefined || name === 'help' || name === '-h' || name === '--help') {
    io.stdout(USAGE);
    return name === undefined ? EXIT.ERROR : EXIT.OK;
  }
  if (name === 'version' || name === '--version') {
    io.stdout(`netpol ${VERSION}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS[name];
  try {
    if (!command) {
      const hint = nearest(name, [...Object.keys(COMMANDS), 'version', 'help']);
      throw new UsageError(`unknown command "${name}" for "netpol"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    const { values, positionals } = parse(rest, command.options as never);
    if (positionals.length > 0 && !command.positionals) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const flags = globalFlags(values);
    if (flags.help) {
      io.stdout(commandHelp(name) ?? USAGE);
      return EXIT.OK;
    }
    return await command.run(flags, values, io, positionals);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`error: ${safeMessage(e.message)}\nRun 'netpol ${command && commandHelp(name) !== undefined ? `${name} ` : ''}--help' for usage.\n`);
      return EXIT.ERROR;
    }
    const err = e as NodeJS.ErrnoException;
    io.stderr(`error: ${safeMessage(err.message ?? String(e))}\n`);
    if (process.env.NETPOL_DEBUG) io.stderr(`${err.stack ?? ''}\n`);
    return EXIT.ERROR;
  }
}

export async function main(): Promise<void> {
  // A reader that stops early (`netpol matrix ... | head`) closes the pipe: stop quietly, as Unix tools
  // do, instead of dying with an EPIPE stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const code = await run(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stdin: process.stdin,
    stderrIsTTY: process.stderr.isTTY === true,
    color: wantsColour(process.stdout.isTTY === true, process.env),
    flush: () => (process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve()),
  });
  process.exitCode = code;
}

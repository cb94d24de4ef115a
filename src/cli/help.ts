/**
 * Per-command help (`netpol check --help`, `netpol help check`): every flag, the endpoint syntax and
 * examples that run as shown from the repository's root. The global page lives in main.ts.
 */

const INPUT_FLAGS = `Input flags:
  -f, --filename PATH     file, directory (.yaml/.yml/.json) or - for stdin; repeatable
  -R, --recursive         descend into subdirectories of -f directories
  -n, --namespace NS      namespace of objects and names that do not say (default "default")
      --kubeconfig FILE   without -f: read the live cluster of this kubeconfig (default: KUBECONFIG,
                          ~/.kube/config, or the pod's service account)
      --context NAME      that kubeconfig's context
      --overlay           with -f: the live cluster with the files applied on top
  -h, --help              this help

Without -f the live cluster of the current kubeconfig context is read (docs/cluster.md).`;

const ENDPOINTS = `Endpoints (--from, --to):
  NS/POD, POD             a pod (POD in the -n namespace); a workload's manifest is one pod named after it
  KIND/NAME, NS/KIND/NAME a workload's pods (deployment|deploy, replicaset|rs, statefulset|sts,
                          daemonset|ds, job, cronjob|cj, replicationcontroller|rc) or a pod (pod|po)
  svc/NAME, NS/svc/NAME   the pods a Service's selector picks (svc|service); as --to, --port 80 (a
                          Service port) is checked as its targetPort, and without --port its only port
  [NS/]SELECTOR           pods matching a label selector in kubectl -l syntax:
                          app=web,tier in (a,b),!legacy   (*/SELECTOR for every namespace)
  ADDRESS                 an IP address: the pod that has it, or a host outside the cluster`;

const PAGES: Record<string, string> = {
  validate: `Validate manifests as the API server would (strict decoding, NetworkPolicy and metadata validation).

Usage:
  netpol validate [-f PATH... [-R]] [-n NS | -A] [-o text|json|yaml|name]

${INPUT_FLAGS}
  -A, --all-namespaces    from a cluster: every namespace (else the context's namespace, as kubectl)
  -o, --output FORMAT     text (default), json, yaml, or name (the valid objects as kubectl names them)

Examples:
  netpol validate -f examples/three-tier
  helm template ./chart | netpol validate -f -
  netpol validate -f examples/broken -o json

Exit codes: 0 valid (warnings allowed), 1 errors found, 2 unreadable input or usage error.
`,
  check: `One connection (or two groups of pods): the verdict and why.

Usage:
  netpol check [-f PATH...] --from SRC --to DST [--port N|NAME] [--protocol TCP|UDP|SCTP] [-o text|json|yaml]

Flags:
      --from SRC          the source endpoint (below)
      --to DST            the destination endpoint (below)
  -p, --port N|NAME       a port number 1-65535 or a container port name of the destination;
                          without it, "any port": the answer lists the ports allowed (to a Service:
                          its port or port name, checked as the pods' targetPort)
      --protocol P        TCP (default), UDP or SCTP
      --skip-invalid      analyse the valid objects, leaving out (and listing) the invalid ones
  -o, --output FORMAT     text (default), json or yaml
${INPUT_FLAGS}

${ENDPOINTS}

Audit mode: policies annotated netpol.dev/mode: audit (NetworkPolicies and cluster-scoped policies) count
as enforcing in the answer; when that changes the verdict, it says so ("DENIED by NS/NAME (audit: allowed
today)", "ALLOWED by Kind/NAME (audit: denied today)") and -o json adds "audit": {by, today}.

Examples:
  netpol check -f examples/three-tier --from three-tier/web --to three-tier/db --port 3306
  netpol check -f examples/three-tier -n three-tier --from web --to api --port 5000 -o json
  netpol check -f examples/three-tier --from 'three-tier/role=web' --to 'three-tier/role in (api,db)'
  netpol check -f examples/bookstore -n bookstore --from deploy/frontend --to svc/api --port 80

Exit codes: 0 allowed (every pair, for groups), 1 denied (audit-mode policies counted), 2 usage error,
unknown pod or invalid input.
`,
  matrix: `Who can reach whom: every ordered pair of pods, for each probe (port x protocol; default TCP/80).

Usage:
  netpol matrix [-f PATH...] [--port P]... [--protocol P]... [-n NS | -A] [--summary] [--by namespace|pod]
                [-o table|wide|json|yaml|csv|md]

Flags:
  -p, --port N|NAME       a probe port (repeatable; default 80)
      --protocol P        TCP (default), UDP or SCTP (repeatable)
      --summary           exact counts of allowed pairs, without the matrix
      --by namespace|pod  the table per namespace pair or per pod (above 100 pods: per namespace)
      --allow-large-output  write a dense output estimated above 256 MiB (it is streamed)
      --include-audit     count audit-mode policies (netpol.dev/mode: audit) as enforcing: the matrix
                          once they enforce (default: what is enforced today, without them)
      --skip-invalid      analyse the valid objects, leaving out (and listing) the invalid ones
  -A, --all-namespaces    show the pods of every namespace (the default unless -n is given)
  -o, --output FORMAT     table (default), wide (with the side denying each pair), json, yaml (--summary),
                          csv, md, dot, mermaid, html (pictures, up to 1,000 pods)
${INPUT_FLAGS}
                          (matrix: -n also shows only the pods of NS)

Examples:
  netpol matrix -f examples/three-tier --port 3306 --port 5000
  netpol matrix -f examples/three-tier -o csv > reach.csv
  netpol matrix -f examples/bookstore -f examples/zero-trust --summary -o yaml

Exit codes: 0 done, 2 usage error, invalid input, or a dense output refused for its size.
`,
  agent: `Enforce the manifests' policies on this node with nftables, and keep enforcing them as files change.

Usage:
  netpol agent --node NAME -f PATH... [-R] [--mode enforce|audit] [--deny-action drop|reject]
               [--existing-connections cut|keep] [--log-denied [--log-rate N]] [--once] [-o text|json]
  netpol agent --node NAME [--kubeconfig FILE] [--context NAME] [--listen ADDR|none]   (watch the API server)

Flags:
      --node NAME                 the node whose pods (spec.nodeName) this agent enforces
      --mode enforce|audit        enforce (default: each policy as its netpol.dev/mode annotation says) or
                                  audit every policy: count and log what would be denied, drop nothing
      --deny-action drop|reject   what denied traffic gets (default drop)
      --existing-connections cut|keep   what happens to open connections a change revokes (default cut)
      --log-denied                log denied new connections (rate limited): drop events on stdout and
                                  at /drops, counters at /metrics (docs/nftables.md, "Drop log"); staged
                                  policies' would-be drops are reported without it (audit events)
      --log-rate N                denied and audited packets logged per second and chain at most
                                  (default 10)
      --once                      apply once and exit
      --kubeconfig FILE           without -f: watch the API server of this kubeconfig (in a pod: its
                                  service account; NODE_NAME from the downward API)
      --context NAME              that kubeconfig's context
      --listen ADDR|none          serve /healthz, /readyz and /metrics (default 127.0.0.1:9763 when
                                  watching a cluster, none for files)
      --netns NAME                act on this network namespace's nftables and conntrack
      --state-dir DIR             where the record of cut connections is kept (default /run/netpol)
      --verify-interval SECONDS   how often the kernel's table is checked for drift (default 60; 0: never)
  -o, --output FORMAT             text (default) or json (one event per line)
  -f, --filename PATH             files or directories to watch (not stdin); -R to descend
  -h, --help                      this help

Examples (root):
  netpol agent --node node-1 -f examples/three-tier --once
  netpol agent --node node-1 -f /etc/netpol -R -o json

Exit codes: 0 done, 2 an error (with --once: the rules could not be applied).
`,
  drops: `The recent drop events of one node's agent, each with the policies that isolate the subject
and a netpol check that reproduces the verdict and explains it.

Usage:
  netpol drops [--agent URL] [--since SEQ] [-o text|wide|json]

Flags:
      --agent URL      the agent's --listen address (default http://127.0.0.1:9763); the agent must
                       run with --log-denied
      --since SEQ      only events after this sequence number (JSON: the answer's "last")
  -o, --output FORMAT  text (default: one block per event), wide (a table), json
  -h, --help           this help

Examples:
  netpol drops
  netpol drops --agent http://10.0.0.5:9763 -o wide
  kubectl -n netpol-system port-forward ds/netpol-agent 9763 & kubectl netpol drops

Exit codes: 0 done, 2 the agent could not be reached or sent no drop log.
`,
  lab: `Pods as network namespaces, real packets, compared with the engine (root).

Usage:
  netpol lab run -f PATH... [--nodes K] [--port P]... [--protocol TCP|UDP]... [--deny-action drop|reject]
                 [--enforcer agent|nft] [-o table|json]
  netpol lab up -f PATH... [--nodes K] [--id ID]
  netpol lab probe ID [--port P]... [--protocol P]... [-o table|json]
  netpol lab down ID | --all
  netpol lab list [-o json]

Flags:
      --nodes K                   lab nodes (1-16, default 1); pods are spread over them
  -p, --port N|NAME               a probe port (repeatable; default 80)
      --protocol TCP|UDP          probe protocols (repeatable; default TCP)
      --deny-action drop|reject   what denied traffic gets (default drop)
      --enforcer agent|nft        one netpol agent per node (default), or rules compiled once
      --id ID                     lab up: the lab's id (default: generated)
      --all                       lab down: every lab, leftovers included
      --control-plane             lab up|run: the lab cluster in a real kube-apiserver, agents watching it
                                  (kubectl changes what the kernel enforces)
  -o, --output FORMAT             table (default) or json
  -f, --filename PATH             manifests (file, directory or -); -R to descend; -n NS as elsewhere
  -h, --help                      this help

Examples:
  netpol lab run -f examples/three-tier --port 3306 --port 5000
  ID=$(netpol lab up -f examples/three-tier) && netpol lab probe "$ID" --port 5000 && netpol lab down "$ID"

Exit codes: 0 kernel and engine agree, 1 they disagree, 2 errors.
`,
  serve: `The web page: the graph, the matrix, explanations and the editor, over manifests or a live
cluster, with the agents' recent drops on the graph (docs/serve.md).

Usage:
  netpol serve -f PATH... [-R] [-n NS] [--agent URL]... [--address 127.0.0.1] [--port 8080]
  netpol serve [--kubeconfig FILE] [--context NAME] [-n NS | -A] [--agent URL]... [--discover-agents]

Flags:
      --address IP        listen on this address (default 127.0.0.1; another one prints a warning)
      --port N            listen on this port (default 8080; 0: any free port)
      --agent URL         an agent's --listen address (repeatable): its recent drops (GET /drops; the
                          agent runs with --log-denied) are drawn on the graph and listed
      --discover-agents   read the drops of every agent pod of the DaemonSet (namespace netpol-system,
                          deploy/daemonset.yaml) through the API server's pod proxy (RBAC: get
                          pods/proxy there); live cluster only
${INPUT_FLAGS}
  -A, --all-namespaces    from a cluster: every namespace (else the context's namespace, as kubectl)

Examples:
  netpol serve -f examples/three-tier
  netpol serve -f manifests/ --agent http://10.0.0.5:9763 --agent http://10.0.0.6:9763
  netpol serve --context prod -A --discover-agents

Exit codes: 0 stopped by SIGINT or SIGTERM, 2 unreadable input, unreachable cluster or usage error.
`,
  completion: `Shell completion for netpol.

Usage:
  netpol completion bash|zsh|fish

Examples:
  source <(netpol completion bash)
  netpol completion zsh > "\${fpath[1]}/_netpol"
  netpol completion fish > ~/.config/fish/completions/netpol.fish
`,
};

/** The help page of a command, if it has its own. */
export function commandHelp(command: string): string | undefined {
  return Object.hasOwn(PAGES, command) ? PAGES[command] : undefined;
}

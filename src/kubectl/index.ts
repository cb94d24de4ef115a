/**
 * kubectl's ways of naming pods on a command line, read against a loaded cluster: label selectors in
 * `-l` syntax, workloads by kind word and name (`deploy/web`), and the pods each stands for. The CLI
 * resolves `--from`/`--to` with these; `--overlay` finds a workload's running replicas with them. Pure.
 */
export { WORKLOAD_KINDS, workloadPods } from './workloads.js';
export { parseLabelSelector, podsMatching } from './selector.js';
export { SERVICE_WORDS, findService, servicePods, servicePort } from './services.js';

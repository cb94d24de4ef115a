/** Turning what the user typed (`ns/pod`, `pod`, an IP) into an endpoint of the loaded cluster. */
import { domainEndpoint, externalEndpoint, podEndpoint } from '../engine/index.js';
import type { Endpoint } from '../engine/index.js';
import { formatIP, parseIP } from '../ip/index.js';
import { PROTOCOLS, type Cluster, type PodInfo, type Protocol } from '../model/index.js';
import { parseLabelSelector, podsMatching, workloadPods } from '../kubectl/index.js';
import { UsageError } from './io.js';

export interface Resolved {
  readonly endpoint: Endpoint;
  /** Set when an address was given that belongs to a pod: the connection goes to that pod. */
  readonly note?: string;
}

export function resolveEndpoint(cluster: Cluster, text: string, defaultNamespace: string, flag: string): Resolved {
  const ip = parseIP(text);
  if (ip) {
    const canonical = formatIP(ip);
    const owners = cluster.pods.filter((p) => p.ips.includes(canonical));
    if (owners.length > 1) {
      const names = owners.slice(0, 5).map((p) => `${p.namespace}/${p.name}`);
      throw new UsageError(`${flag} ${text}: ${owners.length} pods have this address (${names.join(', ')}); name the pod instead`);
    }
    const pod = owners[0];
    if (pod) return { endpoint: podEndpoint(pod), note: `${text} is the address of pod ${pod.namespace}/${pod.name}; evaluating as that pod` };
    const e = externalEndpoint(canonical);
    if (e) return { endpoint: e };
  }
  const slash = text.indexOf('/');
  const namespace = slash >= 0 ? text.slice(0, slash) : defaultNamespace;
  const name = slash >= 0 ? text.slice(slash + 1) : text;
  const pod = cluster.pods.find((p) => p.namespace === namespace && p.name === name);
  if (pod) return { endpoint: podEndpoint(pod) };
  // A DNS name outside the cluster (`example.com`): what cluster policies' domainNames peers name.
  const domain = slash < 0 ? domainEndpoint(text) : undefined;
  if (domain) return { endpoint: domain, note: `${text} is taken as a domain name outside the cluster (its addresses are unknown: ipBlock and networks peers do not match it)` };
  throw new UsageError(`${flag} ${text}: no pod ${namespace}/${name} in the input and not an IP address${suggest(cluster.pods, name)}`);
}

function suggest(pods: readonly PodInfo[], name: string): string {
  const same = pods.filter((p) => p.name === name).map((p) => `${p.namespace}/${p.name}`);
  if (same.length > 0) return ` (did you mean ${same.slice(0, 3).join(', ')}?)`;
  return pods.length === 0 ? ' (the input has no pods)' : '';
}

export function parseProtocol(text: string | undefined): Protocol {
  const p = (text ?? 'TCP').toUpperCase();
  if ((PROTOCOLS as readonly string[]).includes(p)) return p as Protocol;
  throw new UsageError(`--protocol ${text}: must be one of TCP, UDP, SCTP`);
}

/** A port number 1-65535 or a port name (IANA_SVC_NAME syntax is checked loosely: letters, digits, dashes). */
export function parsePort(text: string): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 65535) return n;
    throw new UsageError(`--port ${text}: must be between 1 and 65535`);
  }
  if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text) && text.length <= 15 && /[a-z]/.test(text)) return text;
  throw new UsageError(`--port ${text}: not a port number or a port name`);
}

const POD_WORDS = new Set(['pod', 'pods', 'po']);
const SERVICE_WORDS = new Set(['svc', 'service', 'services']);

/**
 * kubectl's reference forms, rewritten to this tool's: `pod/NAME` and `NS/pod/NAME` name a pod
 * (`NS/NAME`), `KIND/NAME` a workload in the -n namespace (`NS/KIND/NAME`). A first segment that is also
 * a namespace of the input keeps its `NS/NAME` meaning. Services are not read (yet): `svc/NAME` is a usage
 * error that says what to use instead.
 */
export function kubectlReference(cluster: Cluster, text: string, defaultNamespace: string, flag: string): string {
  if (SELECTOR_HINT.test(text)) return text;
  const parts = text.split('/');
  const kindAt = parts.length === 2 ? 0 : parts.length === 3 ? 1 : -1;
  if (kindAt < 0) return text;
  const word = parts[kindAt]!.toLowerCase();
  if (kindAt === 0 && cluster.namespaces.has(parts[0]!)) return text;
  const namespace = kindAt === 0 ? defaultNamespace : parts[0]!;
  const name = parts[kindAt + 1]!;
  if (SERVICE_WORDS.has(word)) throw new UsageError(`${flag} ${text}: netpol does not read Services yet; name the pods the Service selects with a label selector (${namespace}/app=...)`);
  if (POD_WORDS.has(word)) return `${namespace}/${name}`;
  // A workload kind word (deploy, sts, ...): workloadPods answers undefined for anything else.
  if (kindAt === 0 && workloadPods(cluster, `${namespace}/${word}/${name}`) !== undefined) return `${namespace}/${word}/${name}`;
  return text;
}

/** A group of pods named on the command line: a workload's pods, or pods matching a label selector. */
export interface Group {
  readonly pods: readonly PodInfo[];
  /** How the user named it, normalised for output. */
  readonly label: string;
}

const SELECTOR_HINT = /[=!]|\s(in|notin)\s*\(/;

/**
 * `NS/KIND/NAME` (a workload, kind as kubectl spells it: deployment, deploy, sts, ds, ...) or
 * `[NS/]SELECTOR` (kubectl -l syntax: `app=web,tier in (a,b),!legacy`; `*` as NS for every namespace).
 * Undefined for anything else (a pod or an address).
 */
export function resolveGroup(cluster: Cluster, text: string, defaultNamespace: string, flag: string): Group | undefined {
  const parts = text.split('/');
  if (parts.length === 3 && !SELECTOR_HINT.test(text)) {
    const pods = workloadPods(cluster, text);
    if (pods === undefined) throw new UsageError(`${flag} ${text}: not a workload (NS/KIND/NAME with KIND deployment, replicaset, statefulset, daemonset, job, cronjob or replicationcontroller)`);
    if (pods.length === 0) throw new UsageError(`${flag} ${text}: no pods of that workload in the input`);
    return { pods, label: text };
  }
  const slash = text.indexOf('/');
  const [ns, selectorText] = slash >= 0 ? [text.slice(0, slash), text.slice(slash + 1)] : [defaultNamespace, text];
  // A bare word is a pod name, not the selector "this key exists": selectors need =, !=, !, in or notin.
  if (!SELECTOR_HINT.test(selectorText)) return undefined;
  const selector = parseLabelSelector(selectorText);
  if (!selector) throw new UsageError(`${flag} ${text}: not a label selector (e.g. app=web,tier in (a,b),!legacy)`);
  const pods = podsMatching(cluster, ns === '*' ? undefined : ns, selector);
  if (pods.length === 0) throw new UsageError(`${flag} ${text}: no pods match`);
  return { pods, label: `${ns === '*' ? 'all namespaces' : ns}/${selectorText}` };
}

/** Turning what the user typed (`ns/pod`, `pod`, an IP) into an endpoint of the loaded cluster. */
import { domainEndpoint, externalEndpoint, podEndpoint } from '../engine/index.js';
import type { Endpoint } from '../engine/index.js';
import { formatIP, parseIP } from '../ip/index.js';
import { PROTOCOLS, type Cluster, type PodInfo, type Protocol, type ServiceInfo } from '../model/index.js';
import { findService, parseLabelSelector, podsMatching, SERVICE_WORDS, servicePods, servicePort, workloadPods } from '../kubectl/index.js';
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

/**
 * kubectl's reference forms, rewritten to this tool's: `pod/NAME` and `NS/pod/NAME` name a pod
 * (`NS/NAME`), `KIND/NAME` a workload in the -n namespace (`NS/KIND/NAME`), `svc/NAME` a Service
 * (`NS/svc/NAME`). A first segment that is also a namespace of the input keeps its `NS/NAME` meaning.
 */
export function kubectlReference(cluster: Cluster, text: string, defaultNamespace: string): string {
  if (SELECTOR_HINT.test(text)) return text;
  const parts = text.split('/');
  const kindAt = parts.length === 2 ? 0 : parts.length === 3 ? 1 : -1;
  if (kindAt < 0) return text;
  const word = parts[kindAt]!.toLowerCase();
  if (kindAt === 0 && cluster.namespaces.has(parts[0]!)) return text;
  const namespace = kindAt === 0 ? defaultNamespace : parts[0]!;
  const name = parts[kindAt + 1]!;
  if (SERVICE_WORDS.has(word)) return `${namespace}/svc/${name}`;
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
  /** Set when the group is a Service's pods. */
  readonly service?: ServiceInfo;
}

/** Whether an endpoint as typed names a Service (`svc/NAME`, `NS/svc/NAME`): a cluster read then lists Services. */
export function namesService(text: string): boolean {
  const parts = text.split('/');
  const word = parts.length === 2 ? parts[0] : parts.length === 3 ? parts[1] : undefined;
  return word !== undefined && SERVICE_WORDS.has(word.toLowerCase());
}

const SELECTOR_HINT = /[=!]|\s(in|notin)\s*\(/;

/**
 * `NS/KIND/NAME` (a workload, kind as kubectl spells it: deployment, deploy, sts, ds, ...) or
 * `[NS/]SELECTOR` (kubectl -l syntax: `app=web,tier in (a,b),!legacy`; `*` as NS for every namespace).
 * Undefined for anything else (a pod or an address).
 */
export function resolveGroup(cluster: Cluster, text: string, defaultNamespace: string, flag: string): Group | undefined {
  const parts = text.split('/');
  if (parts.length === 3 && !SELECTOR_HINT.test(text) && SERVICE_WORDS.has(parts[1]!.toLowerCase())) return serviceGroup(cluster, parts[0]!, parts[2]!, text, flag);
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

/** `NS/svc/NAME`: the pods the Service selects, or why it stands for none. */
function serviceGroup(cluster: Cluster, namespace: string, name: string, text: string, flag: string): Group {
  const service = findService(cluster, namespace, name);
  if (!service) {
    const elsewhere = (cluster.services ?? []).filter((s) => s.name === name).map((s) => `${s.namespace}/svc/${s.name}`);
    const hint = elsewhere.length > 0 ? ` (did you mean ${elsewhere.slice(0, 3).join(', ')}?)` : (cluster.services?.length ?? 0) === 0 ? ' (the input has no Services)' : '';
    throw new UsageError(`${flag} ${text}: no Service ${namespace}/${name} in the input${hint}`);
  }
  const pods = servicePods(cluster, service);
  if (pods === undefined) {
    throw new UsageError(
      `${flag} ${text}: Service ${namespace}/${name} has no selector, so it stands for no pods netpol can know (its endpoints are managed outside Kubernetes${service.type === 'ExternalName' ? ', or it names an external host' : ''}); name the pods or addresses behind it instead`,
    );
  }
  const selector = Object.entries(service.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (pods.length === 0) throw new UsageError(`${flag} ${text}: Service ${namespace}/${name} selects no pods in the input (selector ${selector})`);
  return { pods, label: `${namespace}/svc/${name}`, service };
}

/**
 * The port to check when the destination is a Service. NetworkPolicy sees a connection after the
 * Service's address and port were translated to a pod's, so the pods' port (`targetPort`) is what is
 * checked: `--port` naming a Service port (its number or name) becomes that port's targetPort, and
 * without `--port` the Service's only port of the protocol is taken (several: every port, as for pods).
 * A `--port` that is no port of the Service is taken as the pods' own port. Each choice is a note.
 */
export function serviceTargetPort(service: ServiceInfo, protocol: Protocol, port: number | string | undefined): { port?: number | string; note?: string } {
  const name = `Service ${service.namespace}/${service.name}`;
  const ports = service.ports.filter((p) => p.protocol === protocol);
  const list = ports.map((p) => `${p.port}${p.name ? ` "${p.name}"` : ''} -> targetPort ${p.targetPort}`).join(', ');
  const chosen = servicePort(service, protocol, port);
  if (port === undefined) {
    if (chosen)
      return {
        port: chosen.targetPort,
        note: `no --port: checking the only ${protocol} port of ${name}, ${chosen.port} -> targetPort ${chosen.targetPort} (the pods' port, which NetworkPolicy sees)`,
      };
    if (ports.length === 0) return { note: `${name} has no ${protocol} port${service.ports.length > 0 ? ` (see --protocol)` : ''}; answering for every ${protocol} port of its pods` };
    return { note: `${name} has ${ports.length} ${protocol} ports (${list}); answering for every port: pass --port to choose one` };
  }
  if (chosen) {
    if (chosen.targetPort === port) return { port };
    return {
      port: chosen.targetPort,
      note: `--port ${port} is port ${chosen.port}${chosen.name ? ` (${chosen.name})` : ''} of ${name}, which forwards to targetPort ${chosen.targetPort} on its pods: NetworkPolicy sees the pods' port, so ${chosen.targetPort} is checked`,
    };
  }
  return { port, ...(ports.length > 0 ? { note: `--port ${port} is not a ${protocol} port of ${name} (${list}); checking it as the pods' own port` } : {}) };
}

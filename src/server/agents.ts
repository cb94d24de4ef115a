/**
 * Reading the agents' drop logs for `netpol serve`: each agent is polled on its own (`GET
 * /drops?since=LAST`), so a slow or dead one delays nobody else and never the analysis; a failure is
 * retried with backoff (1 s doubling to 30 s) and shown on the page until the agent answers again.
 *
 * Agents are found two ways, both behind `AgentTarget` (how to read one agent's /drops):
 * - `--agent URL`: the agent's `--listen` address, read directly (httpTarget).
 * - `--discover-agents`: the pods of the agent DaemonSet (deploy/daemonset.yaml: namespace
 *   netpol-system, labels app.kubernetes.io/name=netpol and app.kubernetes.io/component=agent, the
 *   container port named `metrics`), re-listed every 30 s and read through the API server's pod proxy
 *   (`/api/v1/namespaces/NS/pods/NAME:PORT/proxy/drops`): no route to the nodes is needed, only the
 *   right to `get pods/proxy` there.
 *
 * Answers are bounded (MAX_ANSWER_BYTES) and validated (src/server/drops.ts) before anything is kept.
 */
import type { KubeClient } from '../kube/index.js';
import { agentAnswerOf, type AgentAnswer, type AgentStatus, type DropStore } from './drops.js';

/** An agent's whole /drops answer at most (its ring of 4096 events is about 2.5 MB of JSON). */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** How to read one agent. */
export interface AgentTarget {
  /** What the page calls it: the URL, or `pod NS/NAME`. Untrusted when it names a pod. */
  readonly name: string;
  /** The body of `/drops?since=SEQ`; rejects with a message fit to show when the agent cannot be read. */
  read(since: number, signal: AbortSignal): Promise<string>;
}

/** Reads a response body up to `max` bytes; rejects beyond it. */
async function boundedText(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) throw new Error(`the answer is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `--agent URL`: the agent's own HTTP endpoint. */
export function httpTarget(base: URL): AgentTarget {
  const name = base.origin;
  return {
    name,
    async read(since, signal) {
      const url = new URL('/drops', base);
      url.searchParams.set('since', String(since));
      let res: Response;
      try {
        res = await fetch(url, { signal, redirect: 'error' });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`cannot reach it: ${cause?.code ?? cause?.message ?? (e as Error).message}`, { cause: e });
      }
      if (res.status === 404) {
        await res.body?.cancel();
        throw new Error('it has no drop log (404): start the agent with --log-denied');
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`it answered ${res.status}`);
      }
      return boundedText(res.body, MAX_ANSWER_BYTES);
    },
  };
}

/** Where the agent DaemonSet's pods are (deploy/daemonset.yaml). */
export const AGENT_NAMESPACE = 'netpol-system';
export const AGENT_SELECTOR = 'app.kubernetes.io/name=netpol,app.kubernetes.io/component=agent';
export const AGENT_PORT_NAME = 'metrics';
export const AGENT_PORT = 9763;

/** One agent pod read through the API server's pod proxy. */
export function podProxyTarget(client: KubeClient, namespace: string, pod: string, port: number): AgentTarget {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${port}/proxy/drops`;
  return {
    name: `pod ${namespace}/${pod}`,
    async read(since, signal) {
      const r = await client.getText(`${path}?since=${since}`, MAX_ANSWER_BYTES, signal);
      if (r.status === 404 && !/^\s*\{/.test(r.text)) throw new Error('it has no drop log (404): start the agent with --log-denied');
      if (r.status >= 300) {
        throw new Error(`the API server answered ${r.status}${statusMessage(r.text)}`);
      }
      return r.text;
    },
  };
}

/** `: MESSAGE` of a Kubernetes Status body (cut to 300 characters), or nothing. */
function statusMessage(text: string): string {
  try {
    const v = JSON.parse(text) as { message?: unknown };
    return typeof v.message === 'string' ? `: ${v.message.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}

/** The agent pods of the DaemonSet now: running, with an address, each read on its `metrics` port. */
export async function discoverAgents(client: KubeClient, namespace = AGENT_NAMESPACE): Promise<AgentTarget[]> {
  const { items } = await client.list({ prefix: '/api/v1', plural: 'pods', namespaced: true }, { namespace, labelSelector: AGENT_SELECTOR });
  const out: AgentTarget[] = [];
  for (const item of items as { metadata?: { name?: unknown }; spec?: { containers?: unknown }; status?: { phase?: unknown; podIP?: unknown } }[]) {
    const name = item.metadata?.name;
    if (typeof name !== 'string' || item.status?.phase !== 'Running' || typeof item.status.podIP !== 'string') continue;
    let port = AGENT_PORT;
    const containers = Array.isArray(item.spec?.containers) ? (item.spec.containers as { ports?: unknown }[]) : [];
    for (const c of containers) {
      for (const p of Array.isArray(c.ports) ? (c.ports as { name?: unknown; containerPort?: unknown }[]) : []) {
        if (p.name === AGENT_PORT_NAME && typeof p.containerPort === 'number') port = p.containerPort;
      }
    }
    out.push(podProxyTarget(client, namespace, name, port));
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export interface PollerOptions {
  /** Between two reads of an agent that answers (default 2 s). */
  readonly intervalMs?: number;
  /** First retry after a failure (default 1 s), doubling up to `maxBackoffMs` (default 30 s). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** One read at most (default 10 s). */
  readonly timeoutMs?: number;
  /** Re-lists the agents this often when they are discovered (default 30 s). */
  readonly discoverEveryMs?: number;
  readonly now?: () => number;
}

interface Agent {
  readonly target: AgentTarget;
  since: number;
  node?: string;
  state: AgentStatus['state'];
  message?: string;
  retryAt?: number;
  failures: number;
  missed: number;
  rejected: number;
  stopped: boolean;
  timer?: ReturnType<typeof setTimeout>;
  abort?: AbortController;
}

/** Polls every agent into `store`; `changed` is called when events arrive or an agent's state changes. */
export class AgentPoller {
  private readonly agents = new Map<string, Agent>();
  private stopped = false;
  private discoverTimer: ReturnType<typeof setTimeout> | undefined;
  private discoverError: string | undefined;
  /** The agents `discover` found (the others were given): only these go when a listing lacks them. */
  private readonly discovered = new Set<string>();
  private readonly now: () => number;

  constructor(
    private readonly store: DropStore,
    private readonly changed: () => void,
    private readonly opts: PollerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Fixed agents (`--agent`). */
  add(targets: readonly AgentTarget[]): void {
    for (const t of targets) this.start(t);
  }

  /** Agents found by `discover`, again every `discoverEveryMs`: new ones are polled, gone ones dropped. */
  discover(discover: () => Promise<AgentTarget[]>): void {
    const round = async (): Promise<void> => {
      try {
        const found = await discover();
        this.discoverError = undefined;
        const names = new Set(found.map((t) => t.name));
        for (const name of this.discovered) {
          const a = this.agents.get(name);
          if (!names.has(name) && a) this.stopAgent(a);
        }
        for (const t of found) {
          if (this.agents.has(t.name)) continue;
          this.discovered.add(t.name);
          this.start(t);
        }
      } catch (e) {
        this.discoverError = `listing the agent pods failed: ${(e as Error).message}`;
      }
      this.changed();
      if (!this.stopped) this.discoverTimer = setTimeout(() => void round(), this.opts.discoverEveryMs ?? 30_000);
    };
    void round();
  }

  /** The agents' states for the page; a failed discovery is one more line. */
  status(): AgentStatus[] {
    const now = this.now();
    const out: AgentStatus[] = [...this.agents.values()].map((a) => ({
      name: a.target.name,
      ...(a.node !== undefined ? { node: a.node } : {}),
      state: a.state,
      ...(a.message !== undefined ? { message: a.message } : {}),
      ...(a.state === 'unreachable' && a.retryAt !== undefined ? { retryInMs: Math.max(0, a.retryAt - now) } : {}),
      missed: a.missed,
      rejected: a.rejected,
    }));
    if (this.discoverError !== undefined) out.push({ name: 'agent discovery', state: 'unreachable', message: this.discoverError, missed: 0, rejected: 0 });
    return out;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.discoverTimer);
    for (const a of this.agents.values()) this.stopAgent(a);
  }

  private stopAgent(a: Agent): void {
    a.stopped = true;
    clearTimeout(a.timer);
    a.abort?.abort();
    this.agents.delete(a.target.name);
    this.discovered.delete(a.target.name);
  }

  private start(target: AgentTarget): void {
    const a: Agent = { target, since: 0, state: 'waiting', failures: 0, missed: 0, rejected: 0, stopped: false };
    this.agents.set(target.name, a);
    void this.poll(a);
  }

  private async poll(a: Agent): Promise<void> {
    if (a.stopped) return;
    a.abort = new AbortController();
    const timeout = setTimeout(() => a.abort?.abort(), this.opts.timeoutMs ?? 10_000);
    let answer: AgentAnswer | string;
    try {
      answer = agentAnswerOf(await a.target.read(a.since, a.abort.signal));
    } catch (e) {
      answer = a.abort.signal.aborted && !a.stopped ? 'no answer in time' : (e as Error).message;
    } finally {
      clearTimeout(timeout);
    }
    if (a.stopped) return;
    let delay: number;
    if (typeof answer === 'string') {
      a.failures++;
      delay = Math.min(this.opts.maxBackoffMs ?? 30_000, (this.opts.backoffMs ?? 1000) * 2 ** (a.failures - 1));
      a.state = 'unreachable';
      a.message = answer;
      a.retryAt = this.now() + delay;
      // Each failed try is news (the retry time moved): the page shows the backoff.
      this.changed();
    } else {
      const wasDown = a.state !== 'ok';
      a.failures = 0;
      a.state = 'ok';
      delete a.message;
      delete a.retryAt;
      a.node = answer.node;
      a.rejected += answer.rejected;
      // Only events after what was read, up to what the answer says it holds (an agent that repeats
      // itself, or numbers events it does not count, adds nothing twice).
      const after = a.since;
      const fresh = answer.last < after ? [] : answer.events.filter((e) => e.seq > after && e.seq <= answer.last);
      // The agent restarted (its numbers began again): read it from the start next time.
      if (answer.last < after) a.since = 0;
      else {
        if (after > 0 && answer.oldest - 1 > after) a.missed += answer.oldest - 1 - after;
        a.since = answer.last;
      }
      this.store.add(a.target.name, fresh, this.now());
      if (fresh.length > 0 || wasDown || answer.rejected > 0) this.changed();
      delay = this.opts.intervalMs ?? 2000;
    }
    a.timer = setTimeout(() => void this.poll(a), delay);
  }
}

/**
 * What `/api/v1/drops` answers (and the `drops` event carries): the agents' recent drop events folded
 * onto the graph's pairs. Types only, shared by the server (drops.ts) and the page (src/web).
 */

/** One drop event as the agent's /drops JSON has it (src/agent/drops.ts), after validation. */
export interface AgentDrop {
  readonly seq: number;
  readonly time: string;
  readonly lastTime: string;
  readonly node: string;
  readonly action: 'deny' | 'audit';
  readonly direction: 'ingress' | 'egress';
  readonly chain: string;
  readonly policies: readonly string[];
  readonly reason: string;
  readonly source: { readonly ip: string; readonly pod?: string };
  readonly destination: { readonly ip: string; readonly pod?: string };
  readonly protocol: string;
  readonly port?: number;
  readonly icmpType?: number;
  readonly packets: number;
}

/** One end of a drop as the page draws it. */
export interface DropEnd {
  /** `pod`: a pod of the snapshot (`name` is `ns/name`); `block`: in an address block (`name` is its label); `address`. */
  readonly kind: 'pod' | 'block' | 'address';
  readonly name: string;
  readonly ip: string;
  /** What `netpol check` is asked: the pod's name, or the address. */
  readonly check: string;
}

/** A drop on the page: the event with its ends resolved, and the agent it came from. */
export interface DropView extends AgentDrop {
  readonly agent: string;
  readonly from: DropEnd;
  readonly to: DropEnd;
}

/** The drops between two ends, folded. */
export interface DropPair {
  readonly from: DropEnd;
  readonly to: DropEnd;
  /** Attempts dropped, and attempts an audit-mode policy would have dropped. */
  readonly denied: number;
  readonly audited: number;
  readonly packets: number;
  /** The latest attempt (ISO 8601), its action, protocol and port: what a click explains. */
  readonly last: string;
  readonly lastAction: 'deny' | 'audit';
  readonly protocol: string;
  readonly port?: number;
  /** `TCP/443`, ... (at most 8). */
  readonly ports: readonly string[];
}

/** An agent as the page lists it. */
export interface AgentStatus {
  /** Its URL, or `pod NS/NAME` when read through the API server. */
  readonly name: string;
  readonly node?: string;
  /** `ok`: answered last time; `waiting`: not asked yet; `unreachable`: the last try failed (retrying). */
  readonly state: 'ok' | 'waiting' | 'unreachable';
  readonly message?: string;
  /** When the next try is, in ms from when this status was made (unreachable only). */
  readonly retryInMs?: number;
  /** Events pushed out of the agent's ring before they were read, since serve started. */
  readonly missed: number;
  readonly rejected: number;
}

export interface DropsView {
  readonly agents: readonly AgentStatus[];
  readonly pairs: readonly DropPair[];
  /** Newest first, at most `LIST_LIMIT`. */
  readonly events: readonly DropView[];
  /** Events kept (all of them are folded into `pairs`). */
  readonly kept: number;
  readonly windowMs: number;
  readonly capacity: number;
}

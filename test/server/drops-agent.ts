/**
 * A real agent's drop log for the serve tests: the agent's own HTTP server (src/agent/http.ts) serving a
 * real DropLog (src/agent/drop-service.ts) fed kernel log lines through the real parser, attributed
 * against the shop cluster below compiled for node n1. Only the kernel log itself is pushed by the test.
 */
import { loadCluster } from '../../src/load/index.js';
import { compileNode, subjectChainName } from '../../src/nft/index.js';
import { startAgentServer, type AgentServer } from '../../src/agent/http.js';
import { startDropLog } from '../../src/agent/drop-service.js';
import type { KernelLogReader } from '../../src/agent/kmsg-reader.js';
import type { KmsgRecord } from '../../src/agent/kmsg.js';

/**
 * shop/probe -> shop/web on 8080 is denied (web admits only app=api); shop/api -> shop/web on 8080 is
 * allowed; shop/probe's egress is staged in audit mode and names 203.0.113.0/24 (a block on the graph).
 */
export const SHOP = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, image: none, ports: [{containerPort: 8080}]}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: shop, labels: {app: probe}}
spec: {nodeName: n1, containers: [{name: c, image: none}]}
status: {podIP: 10.1.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {nodeName: n1, containers: [{name: c, image: none}]}
status: {podIP: 10.1.0.3}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: probe-out
  namespace: shop
  annotations: {netpol.dev/mode: audit}
spec:
  podSelector: {matchLabels: {app: probe}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 203.0.113.0/24}}], ports: [{port: 443}]}]
`;

export const shop = loadCluster([{ file: 'shop.yaml', text: SHOP }]).cluster;
const ruleset = compileNode(shop, { node: 'n1', log: true });

export const WEB_IN = subjectChainName('ingress', ['shop/web-from-api']);
export const PROBE_OUT = subjectChainName('egress', ['shop/probe-out']);

/** A kernel log line of ours, as nf_log_syslog prints a TCP SYN. */
export function kernelLine(action: 'deny' | 'audit', chain: string, source: string, destination: string, sport: number, dport: number): string {
  return `netpol ${action} ${chain}: IN=v0 OUT=v1 MAC=00 SRC=${source} DST=${destination} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

/** The kernel log seam: delivers what the test pushes, stamped now. */
class PushedLog implements KernelLogReader {
  private deliver: ((r: KmsgRecord, wallMs: number) => void) | undefined;
  private seq = 0;
  start(record: (r: KmsgRecord, wallMs: number) => void): void {
    this.deliver = record;
  }
  stop(): void {
    this.deliver = undefined;
  }
  push(message: string): void {
    this.deliver?.({ seq: ++this.seq, usec: 0, message }, Date.now());
  }
}

export interface RunningAgent {
  readonly url: string;
  push(message: string): void;
  close(): Promise<void>;
}

/** The agent of node n1 with its drop log, listening on `host:port` (port 0: any free one). */
export async function startShopAgent(host = '127.0.0.1', port = 0): Promise<RunningAgent> {
  const log = new PushedLog();
  const drops = startDropLog({ node: 'n1', enforced: () => ({ ruleset, cluster: shop }), report: () => undefined, reader: log });
  const server: AgentServer = await startAgentServer({ host, port }, { ready: () => true, metrics: async () => [], drops: (since) => drops.answer(since) });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${server.address.port}`,
    push: (m) => log.push(m),
    close: async () => {
      drops.stop();
      await server.close();
    },
  };
}

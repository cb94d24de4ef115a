import { DropLog } from '../src/agent/drops.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type PodInfo, type PolicyInfo } from '../src/model/cluster.js';
import { compileNode } from '../src/nft/index.js';
const PEERS = 100000;
function v4(n: number) { return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`; }
const pod = (namespace: string, name: string, ip: string, labels: Record<string, string>, nodeName?: string): PodInfo => ({ namespace, name, labels, ips: [ip], ports: [], ...(nodeName ? { nodeName } : {}) });
const pods: PodInfo[] = [pod('bench', 'server', '10.200.0.2', { app: 'server' }, 'bench'), pod('bench', 'sender', '10.201.0.1', { app: 'sender' }, 'other')];
const base = (10 << 24) + (96 << 16);
for (let i = 0; i < PEERS; i++) pods.push(pod('peers', `p${i}`, v4(base + 2 * i), { role: 'peer' }, 'other'));
const namespaces = new Map(['bench', 'peers'].map((n) => [n, { name: n, labels: { [NAMESPACE_NAME_LABEL]: n }, implicit: false }]));
const policy: PolicyInfo = { namespace: 'bench', name: 'server-from-peers', policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'bench', name: 'server-from-peers' }, spec: { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'peers' } } }], ports: [{ port: 5201 }] }] } } };
const c: Cluster = { namespaces, pods, policies: [policy] };
const ruleset = compileNode(c, { node: 'bench', log: true, logRate: 20000 });
const chain = ruleset.chains.find((ch) => ch.name.startsWith('ingress_'))!.name;
const msg = (i: number) => `netpol deny ${chain}: IN=npdb0 OUT=npdb1 MAC=aa:bb:cc:dd:ee:ff:11:22:33:44:55:66:08:00 SRC=10.201.0.1 DST=10.200.0.2 LEN=29 TOS=0x00 PREC=0x00 TTL=63 ID=${i} DF PROTO=UDP SPT=40000 DPT=${1024 + (i % 60000)} LEN=9 `;
import { parseKmsgRecord, parseLogLine } from '../src/agent/kmsg.js';
const texts = Array.from({ length: 50000 }, (_, i) => `4,${1000 + i},${123456789 + i},-;${msg(i)}\n SUBSYSTEM=net\n`);
for (let round = 0; round < 4; round++) {
  let t = (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  const recs = texts.map((x) => parseKmsgRecord(x)!);
  const a = (process.cpuUsage().user + process.cpuUsage().system) / 1000 - t;
  t = (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  for (const r of recs) parseLogLine(r.message);
  const b = (process.cpuUsage().user + process.cpuUsage().system) / 1000 - t;
  const log = new DropLog({ node: 'bench', capacity: 4096 });
  const enforced = { ruleset, cluster: c };
  log.attributeTo(enforced);
  t = (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  for (const r of recs) log.ingest(r, Date.now(), enforced);
  const d = (process.cpuUsage().user + process.cpuUsage().system) / 1000 - t;
  console.log(`per record: kmsg record ${(a / 50).toFixed(2)} us, parseLogLine ${(b / 50).toFixed(2)} us, ingest (incl. parse) ${(d / 50).toFixed(2)} us`);
}

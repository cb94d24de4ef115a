/**
 * Run by lab.test.ts as a child process: starts a lab run that takes long (every packet dropped, long
 * timeouts) and prints each phase as it starts, so the parent can signal it at a chosen moment.
 * Usage: node --import tsx test/lab/signal-child.ts <lab-id>
 */
import { runLab, staticEnforcer } from '../../src/lab/index.js';
import { cluster, pod } from '../builders.js';

const id = process.argv[2]!;
const dropAll = 'table inet labtest {\n  chain forward { type filter hook forward priority 0; policy drop; }\n}\n';
const c = cluster({ pods: [pod('x/a'), pod('x/b'), pod('y/a'), pod('y/b')] });
await runLab(c, {
  id,
  nodes: 2,
  enforcer: staticEnforcer({ 'lab-node-0': dropAll, 'lab-node-1': dropAll }),
  probes: [{ port: 80, protocol: 'TCP' }],
  tcpTimeoutMs: 20_000,
  onEvent: (e) => {
    if (e.state === 'start') process.stdout.write(`${e.phase}\n`);
  },
});
process.stdout.write('finished\n');

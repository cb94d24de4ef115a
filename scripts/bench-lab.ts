/**
 * The lab's cost as a user sees it: `netpol lab run` (the built CLI, a new process each time) for every
 * scenario of the enforcement corpus (test/enforce/scenarios, on top of base.yaml) on 1 and on 2 nodes,
 * plus the three-tier example. Prints each run's wall time and the total; every run must agree with the
 * engine (exit 0). Needs root, ip, nft, conntrack and `npm run build`. Usage:
 *   npm run bench:lab [-- --limit N]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin', 'netpol.js');
const dir = join(root, 'test', 'enforce', 'scenarios');
const limitAt = process.argv.indexOf('--limit');
const limit = limitAt > 0 ? Number(process.argv[limitAt + 1]) : Infinity;
const probes = ['--port', '80', '--port', '81', '--protocol', 'TCP', '--protocol', 'UDP'];

function timed(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'lab', 'run', ...args], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`lab run ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
  return ms;
}

const load0 = loadavg()[0]!;
const threeTier = timed(['-f', join(root, 'examples', 'three-tier'), '--port', '80', '--port', '5000', '--port', '3306']);
console.log(`three-tier (1 node): ${(threeTier / 1000).toFixed(2)} s`);
const scenarios = readdirSync(dir)
  .filter((f) => /^\d+-.*\.yaml$/.test(f))
  .sort()
  .slice(0, limit);
let total = 0;
let runs = 0;
for (const s of scenarios) {
  for (const nodes of [1, 2]) {
    const ms = timed(['-f', join(dir, 'base.yaml'), '-f', join(dir, s), '--nodes', String(nodes), ...probes]);
    total += ms;
    runs++;
  }
}
console.log(`${runs} corpus runs (${scenarios.length} scenarios x 1 and 2 nodes): ${(total / 1000).toFixed(1)} s in all, ${(total / runs / 1000).toFixed(2)} s each`);
console.log(`load average at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}`);

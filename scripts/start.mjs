#!/usr/bin/env node
// `npm start`: the tour. For every scenario in examples/ (except broken/, which holds the seeds' invalid
// YAML), print who reaches whom and the verdict, with its reason, for each claim its README makes.
// Uses the built CLI exactly as a user would call it; see `netpol check ... ` for a full explanation.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../dist/src/cli/main.js';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const examples = join(root, 'examples');
let out = '';
const warned = new Set();
// Warnings (e.g. an undeclared kube-system) are printed once per scenario, not once per table.
const io = {
  stdout: (s) => (out += s),
  stderr: (s) => {
    for (const line of s.split(/(?<=\n)/)) {
      if (warned.has(line)) continue;
      warned.add(line);
      out += line;
    }
  },
};
const print = (s) => process.stdout.write(s);

async function netpol(args, stdin) {
  out = '';
  const code = await run(args, stdin === undefined ? io : { ...io, stdin: Readable.from([stdin]) });
  return { code, out };
}

/** The rows of the `## Claims` table of a scenario README (see examples/README.md). */
function readClaims(readme) {
  const lines = readFileSync(readme, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim() === '## Claims');
  if (at < 0) return [];
  const rows = [];
  for (const l of lines.slice(at + 1)) {
    if (l.startsWith('## ')) break;
    if (!l.startsWith('|')) continue;
    const c = l
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((x) => x.trim());
    if (c[0] === 'from' || /^-+$/.test(c[0])) continue;
    rows.push({ from: c[0], to: c[1], port: c[2] || undefined, protocol: c[3] || undefined, allowed: c[4] === 'yes' });
  }
  return rows;
}

let failures = 0;
for (const name of readdirSync(examples).sort()) {
  const dir = join('examples', name);
  if (name === 'broken' || !existsSync(join(root, dir, 'README.md'))) continue;
  print(`\n=== ${dir}  (${dir}/README.md)\n\n`);
  const claims = readClaims(join(root, dir, 'README.md'));
  // One table per distinct probe the claims use (at most three), TCP/80 when they name none.
  const probes = [...new Set(claims.filter((c) => c.port !== undefined).map((c) => `${c.protocol ?? 'TCP'}/${c.port}`))].slice(0, 3);
  for (const probe of probes.length ? probes : ['TCP/80']) {
    const [protocol, port] = probe.split('/');
    print((await netpol(['matrix', '-f', dir, '--port', port, '--protocol', protocol])).out);
    print('\n');
  }
  print('claims (from the README):\n');
  for (const c of claims) {
    const args = ['check', '-f', dir, '--from', c.from, '--to', c.to];
    if (c.port !== undefined) args.push('--port', String(c.port));
    if (c.protocol !== undefined) args.push('--protocol', c.protocol);
    const r = await netpol(args);
    const first = r.out.split('\n').find((l) => /^(ALLOWED|DENIED)/.test(l)) ?? r.out.trim();
    const ok = (r.code === 0) === c.allowed;
    if (!ok) failures++;
    print(`${ok ? '  ' : '! '}${first}\n`);
  }
}
// Review: what a pull request changes, and the classic mistakes. The "pull request" is the fix that
// examples/internal-egress-dns makes to examples/internal-egress (a DNS rule), applied to the same namespace.
print(`\n=== review: netpol diff (what a change does to reachability) and netpol lint (the classic mistakes)\n\n`);
const fixed = [
  readFileSync(join(root, 'examples/internal-egress/workloads.yaml'), 'utf8'),
  readFileSync(join(root, 'examples/internal-egress-dns/internal-policy.yaml'), 'utf8').replaceAll('namespace: internal-egress-dns', 'namespace: internal-egress'),
].join('\n---\n');
print('$ netpol diff examples/internal-egress - < (the same with the DNS rule of examples/internal-egress-dns)\n');
const diff = await netpol(['diff', 'examples/internal-egress', '-'], fixed);
print(diff.out);
print(`(exit ${diff.code}: 1 = reachability changed; -o json for CI, -o md for a pull-request comment, git:REV:PATH for a revision)\n\n`);
const pitfalls = ['examples/internal-egress', 'examples/and-vs-or', 'examples/ipblock-except'];
print(`$ netpol lint ${pitfalls.map((d) => `-f ${d}`).join(' ')} --disable pod-not-isolated\n`);
const lintRun = await netpol(['lint', ...pitfalls.flatMap((d) => ['-f', d]), '--disable', 'pod-not-isolated']);
print(lintRun.out);
print(`(exit ${lintRun.code}; -o sarif for code scanning; every rule: docs/lint/README.md)\n`);

print(`\nFor the full explanation of one connection: npx netpol check -f examples/three-tier --from three-tier/web --to three-tier/db --port 3306\n`);
if (failures > 0) {
  print(`${failures} claims disagree with their README (marked !)\n`);
  process.exitCode = 1;
}

/**
 * What one edit costs the node agent before nft: the file source re-reading its manifests
 * (`ManifestReader.read`: read the files, parse the changed ones, validate, keep the objects that did
 * not change) and the node's compiler updating (`NodeCompiler.update` with the agent's options, then
 * `renderDiff`). On a generated cluster written to a temporary directory; each round flips one pod's
 * label in the first pods file and back. No root needed.
 *
 * Usage: npm run bench:reread -- [--shape realistic] [--scale 1] [--rounds 10] [--node node-0] [--reference]
 *   --reference  also time one load with the reference loader (src/load), which the agent used before
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ManifestReader } from '../src/agent/source.js';
import { generateFiles, isShapeName } from '../tools/gen/index.js';
import { loadCluster } from '../src/load/index.js';
import { readSources } from '../src/load/sources.js';
import { NodeCompiler, renderDiff } from '../src/nft/index.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'realistic' },
    scale: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '10' },
    node: { type: 'string', default: 'node-0' },
    reference: { type: 'boolean', default: false },
  },
});
const shape = values.shape;
if (!isShapeName(shape)) throw new Error(`unknown shape ${shape}`);
const rounds = Number(values.rounds);

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const range = (xs: readonly number[]) => `median ${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
const time = async <T>(fn: () => T | Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
};

const dir = mkdtempSync(join(tmpdir(), 'netpol-bench-reread-'));
try {
  const files = generateFiles(shape, { scale: Number(values.scale) });
  for (const f of files) writeFileSync(join(dir, f.name), f.text);
  const podsFile = join(dir, files.find((f) => f.name.startsWith('pods-'))?.name ?? '');
  const original = readFileSync(podsFile, 'utf8');
  const edited = original.replace(/\n(\s+)app: (\S+)/, '\n$1app: edited');
  if (edited === original) throw new Error(`no app label to flip in ${podsFile}`);
  const bytes = files.reduce((n, f) => n + f.text.length, 0);

  const reader = new ManifestReader({ paths: [dir], recursive: false });
  const [first, cold] = await time(() => reader.read());
  const compiler = new NodeCompiler({ node: values.node, denyAction: 'drop', reuseArrays: true });
  const [firstRuleset, firstCompile] = await time(() => compiler.update(first.cluster));
  let current = firstRuleset;
  console.log(
    `${shape} x${values.scale}: ${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${first.cluster.pods.length} pods, ${first.cluster.policies.length} policies; ` +
      `machine ${cpus().length} x ${cpus()[0]?.model.trim() ?? '?'}, node ${process.version}`,
  );
  console.log(`first read ${cold.toFixed(0)} ms, first compile for ${values.node} ${firstCompile.toFixed(0)} ms`);

  const read: number[] = [];
  const compile: number[] = [];
  const diff: number[] = [];
  for (let r = 0; r < rounds; r++) {
    writeFileSync(podsFile, r % 2 === 0 ? edited : original);
    const [snapshot, tRead] = await time(() => reader.read());
    const [next, tCompile] = await time(() => compiler.update(snapshot.cluster));
    const [, tDiff] = await time(() => renderDiff(current, next));
    current = next;
    read.push(tRead);
    compile.push(tCompile);
    diff.push(tDiff);
  }
  console.log(`one label edited, ${rounds} rounds: re-read ${range(read)}; compile ${range(compile)}; diff ${range(diff)}`);

  if (values.reference) {
    const sources = (await readSources([dir], { recursive: false })).sources;
    const [, tRef] = await time(() => loadCluster(sources));
    console.log(`reference loader, whole input: ${tRef.toFixed(0)} ms`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Writes a generated cluster as YAML manifests (see tools/gen). Usage:
 *   node --import tsx scripts/gen.ts <shape> [--seed N] [--scale F] [--out DIR] [--chunk N] [--format yaml|json-list|json-stream]
 * Shapes: small-ns, one-ns-overlap, pairs, cross-ns, realistic, max. Default DIR: gen/<shape>.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FILE_FORMATS, SHAPES, SHAPE_DESCRIPTIONS, generateObjects, isShapeName, toFiles, type FileFormat } from '../tools/gen/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string', default: '1' },
    scale: { type: 'string', default: '1' },
    format: { type: 'string', default: 'yaml' },
    out: { type: 'string' },
    chunk: { type: 'string', default: '20000' },
    help: { type: 'boolean', short: 'h' },
  },
});

const shape = positionals[0];
if (values.help || shape === undefined || !isShapeName(shape)) {
  const list = SHAPES.map((s) => `  ${s.padEnd(15)} ${SHAPE_DESCRIPTIONS[s]}`).join('\n');
  process.stderr.write(`usage: gen <shape> [--seed N] [--scale F] [--out DIR] [--chunk N]\nshapes:\n${list}\n`);
  process.exit(values.help ? 0 : 2);
}
const seed = Number(values.seed);
const scale = Number(values.scale);
if (!Number.isInteger(seed) || !(scale > 0)) {
  process.stderr.write('error: --seed must be an integer and --scale a positive number\n');
  process.exit(2);
}
const out = values.out ?? join('gen', shape);
const t0 = performance.now();
const objects = generateObjects(shape, { seed, scale });
if (!(FILE_FORMATS as readonly string[]).includes(values.format!)) {
  process.stderr.write(`error: --format must be one of ${FILE_FORMATS.join(', ')}\n`);
  process.exit(2);
}
const files = toFiles(objects, { chunk: Number(values.chunk), format: values.format as FileFormat });
mkdirSync(out, { recursive: true });
// Leave no stale chunk of a bigger earlier run behind.
for (const f of readdirSync(out)) if (/^(namespaces|pods-\d+|policies-\d+)\.(yaml|json)$/.test(f)) rmSync(join(out, f));
let bytes = 0;
for (const f of files) {
  writeFileSync(join(out, f.name), f.text);
  bytes += Buffer.byteLength(f.text);
}
process.stderr.write(
  `${shape} (seed ${seed}, scale ${scale}): ${objects.namespaces.length} namespaces, ${objects.pods.length} pods, ${objects.policies.length} policies; ` +
    `${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB in ${out} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
);

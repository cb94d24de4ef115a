#!/usr/bin/env node
// Builds the page of `netpol serve` (src/web) into dist/web: one ES module bundle (esbuild, with
// cytoscape inside), the stylesheet and index.html. Nothing is fetched from elsewhere at run time.
// Usage: node scripts/build-web.mjs [OUT_DIR]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function buildWeb(outDir = join(root, 'dist/web')) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'src/web/main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'src/web/style.css'), join(outDir, 'app.css'));
  for (const name of ['index.html', 'favicon.svg']) copyFileSync(join(root, 'src/web', name), join(outDir, name));
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWeb(process.argv[2]);
}

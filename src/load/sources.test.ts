import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { readSources, STDIN_NAME } from './sources.js';
import { loadCluster } from './index.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/load/dir', import.meta.url));
const rel = (files: { file: string }[]) => files.map((s) => (s.file === STDIN_NAME ? s.file : relative(DIR, s.file)));
const noStdin = Readable.from([]);

describe('readSources', () => {
  test('a directory: its .yaml, .yml and .json files, top level only, in lexical order', async () => {
    const r = await readSources([DIR], { recursive: false, stdin: noStdin });
    assert.deepEqual(r.diagnostics, []);
    // Upper.YAML: extensions are matched case-sensitively, like kubectl; notes.txt and sub/ are skipped.
    assert.deepEqual(rel(r.sources), ['a.yml', 'b.yaml', 'c.json', 'z.yaml']);
  });

  test('-R walks subdirectories in place (lexical order, as filepath.Walk)', async () => {
    const r = await readSources([DIR], { recursive: true, stdin: noStdin });
    assert.deepEqual(rel(r.sources), ['a.yml', 'b.yaml', 'c.json', 'sub/d.yaml', 'sub/deeper/e.yaml', 'z.yaml']);
    const { cluster, diagnostics } = loadCluster(r.sources);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual([...cluster.namespaces.keys()], ['a', 'b', 'c', 'd', 'e', 'z']);
  });

  test('a file named explicitly is read whatever its extension; paths keep the order given', async () => {
    const r = await readSources([join(DIR, 'z.yaml'), join(DIR, 'notes.txt'), join(DIR, 'a.yml')], { recursive: false, stdin: noStdin });
    assert.deepEqual(rel(r.sources), ['z.yaml', 'notes.txt', 'a.yml']);
    assert.equal(r.sources[1]?.text, 'not a manifest\n');
  });

  test('the same file reached twice is read once', async () => {
    const r = await readSources([join(DIR, 'b.yaml'), DIR], { recursive: false, stdin: noStdin });
    assert.deepEqual(rel(r.sources), ['b.yaml', 'a.yml', 'c.json', 'z.yaml']);
  });

  test('a missing path is a ReadError, and the other paths are still read', async () => {
    const missing = join(DIR, 'nope.yaml');
    const r = await readSources([missing, join(DIR, 'a.yml')], { recursive: false, stdin: noStdin });
    assert.deepEqual(rel(r.sources), ['a.yml']);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.file, d.message]),
      [['error', 'ReadError', missing, `the path ${JSON.stringify(missing)} does not exist`]],
    );
  });

  test('- reads standard input (a stream or any async iterable), once', async () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: piped}\n';
    const r = await readSources(['-', join(DIR, 'a.yml'), '-'], { recursive: false, stdin: Readable.from([Buffer.from(text.slice(0, 10)), text.slice(10)]) });
    assert.deepEqual(rel(r.sources), [STDIN_NAME, 'a.yml']);
    assert.equal(r.sources[0]?.text, text);

    async function* chunks(): AsyncGenerator<string> {
      yield 'a: 1\n';
      yield 'b: 2\n';
    }
    const g = await readSources(['-'], { recursive: false, stdin: chunks() });
    assert.deepEqual(g.sources, [{ file: STDIN_NAME, text: 'a: 1\nb: 2\n' }]);
  });

  test('a UTF-8 byte order mark is dropped', async () => {
    const r = await readSources(['-'], { recursive: false, stdin: Readable.from([Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x3a, 0x20, 0x31])]) });
    assert.equal(r.sources[0]?.text, 'a: 1');
  });

  test('input larger than maxBytes is refused with a clear ReadError (files and stdin)', async () => {
    // a.yml is 51 bytes: exactly at the limit is fine, one byte over is not.
    const fits = await readSources([join(DIR, 'a.yml')], { recursive: false, stdin: noStdin, maxBytes: 51 });
    assert.deepEqual([fits.sources.length, fits.diagnostics], [1, []]);
    const over = await readSources([join(DIR, 'a.yml')], { recursive: false, stdin: noStdin, maxBytes: 50 });
    assert.deepEqual(over.sources, []);
    assert.deepEqual(
      over.diagnostics.map((d) => [d.code, d.message]),
      [['ReadError', `${JSON.stringify(join(DIR, 'a.yml'))} is larger than the input size limit of 50 bytes`]],
    );
    const s = await readSources(['-'], { recursive: false, stdin: Readable.from(['x'.repeat(2048), 'y'.repeat(2048)]), maxBytes: 2048 });
    assert.deepEqual(
      s.diagnostics.map((d) => [d.code, d.file, d.message]),
      [['ReadError', STDIN_NAME, `"${STDIN_NAME}" is larger than the input size limit of 2 KiB`]],
    );
  });

  describe('on a scratch directory', () => {
    let tmp = '';
    before(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'netpol-load-'));
      await mkdir(join(tmp, 'real'));
      await writeFile(join(tmp, 'real', 'x.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n');
      await mkdir(join(tmp, 'top'));
      await symlink(join(tmp, 'real', 'x.yaml'), join(tmp, 'top', 'linked.yaml'));
      await symlink(join(tmp, 'real'), join(tmp, 'top', 'linkdir'));
      await symlink(join(tmp, 'top'), join(tmp, 'top', 'loop'));
      await symlink(join(tmp, 'nowhere.yaml'), join(tmp, 'top', 'dangling.yaml'));
      await writeFile(join(tmp, 'secret.yaml'), 'a: 1\n');
      await chmod(join(tmp, 'secret.yaml'), 0o000);
    });
    after(async () => {
      await rm(tmp, { recursive: true, force: true });
    });

    test('symlinked files are read, symlinked directories are not walked (no loops), dangling links skipped', async () => {
      const r = await readSources([join(tmp, 'top')], { recursive: true, stdin: noStdin });
      assert.deepEqual(r.diagnostics, []);
      assert.deepEqual(
        r.sources.map((s) => relative(tmp, s.file)),
        ['top/linked.yaml'],
      );
    });

    test('an unreadable file is a ReadError', { skip: process.getuid?.() === 0 ? 'root reads everything' : false }, async () => {
      const r = await readSources([join(tmp, 'secret.yaml')], { recursive: false, stdin: noStdin });
      assert.deepEqual(
        r.diagnostics.map((d) => [d.code, d.message]),
        [['ReadError', `cannot read ${JSON.stringify(join(tmp, 'secret.yaml'))}: permission denied`]],
      );
    });
  });
});

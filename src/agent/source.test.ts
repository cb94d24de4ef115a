import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileClusterSource, ManifestReader, type ClusterSnapshot } from './source.js';

const policy = (name: string, body: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: app}
spec:
${body}
`;
const DENY = policy('deny', '  podSelector: {}\n  policyTypes: [Ingress]');
const ALLOW_80 = policy('allow', '  podSelector: {}\n  ingress:\n  - ports: [{port: 80}]');
const ALLOW_BAD = policy('allow', '  podSelector: {}\n  ingress:\n  - ports: [{port: 80, endPort: 10}]');

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netpol-agent-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const names = (s: ClusterSnapshot) => s.cluster.policies.map((p) => p.name).sort();
const codes = (s: ClusterSnapshot) => s.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);

describe('ManifestReader: a bad edit never takes down enforcement of what was valid', () => {
  test(
    'a policy that becomes invalid keeps its last valid version, loudly',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'a.yaml'), `${DENY}---\n${ALLOW_80}`);
      const reader = new ManifestReader({ paths: [dir], recursive: false });
      assert.deepEqual(names(await reader.read()), ['allow', 'deny']);
      writeFileSync(join(dir, 'a.yaml'), `${DENY}---\n${ALLOW_BAD}`);
      const s = await reader.read();
      assert.deepEqual(names(s), ['allow', 'deny']);
      assert.ok(codes(s).includes('KeptLastValid'));
      const kept = s.cluster.policies.find((p) => p.name === 'allow');
      assert.equal(kept?.policy.spec.ingress?.[0]?.ports?.[0]?.endPort, undefined, 'the last valid version, not the new one');
    }),
  );

  test(
    'a policy that was never valid is left out, as the API server would refuse it',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'a.yaml'), `${DENY}---\n${ALLOW_BAD}`);
      const s = await new ManifestReader({ paths: [dir], recursive: false }).read();
      assert.deepEqual(names(s), ['deny']);
      assert.ok(codes(s).includes('SkippedInvalid'));
    }),
  );

  test(
    'a file that stops parsing keeps its last good content',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'a.yaml'), DENY);
      const reader = new ManifestReader({ paths: [dir], recursive: false });
      assert.deepEqual(names(await reader.read()), ['deny']);
      writeFileSync(join(dir, 'a.yaml'), `${DENY}\n  : [unbalanced`);
      const s = await reader.read();
      assert.deepEqual(names(s), ['deny']);
      assert.ok(codes(s).includes('KeptLastGood'));
      writeFileSync(join(dir, 'a.yaml'), ALLOW_80);
      assert.deepEqual(names(await reader.read()), ['allow'], 'once fixed, the new content counts');
    }),
  );
});

/**
 * A running FileClusterSource and the snapshots it delivered. `next(pred)` waits for a snapshot that
 * satisfies `pred`, however long the watch takes (no clock of its own: the runner's timeout is the bound,
 * and the source's rescan tick delivers even if an event was missed).
 */
async function watching(paths: string[], opts: { emptyHoldMs?: number } = {}) {
  const seen: ClusterSnapshot[] = [];
  let waiter: { pred: (s: ClusterSnapshot) => boolean; resolve: (s: ClusterSnapshot) => void } | undefined;
  const source = new FileClusterSource({ paths, recursive: false, debounceMs: 5, rescanMs: 50, ...opts });
  await source.start((s) => {
    seen.push(s);
    if (waiter?.pred(s)) {
      waiter.resolve(s);
      waiter = undefined;
    }
  });
  return {
    seen,
    stop: () => source.stop(),
    /** The first snapshot after the call that satisfies `pred`. */
    next: (pred: (s: ClusterSnapshot) => boolean) => new Promise<ClusterSnapshot>((resolve) => (waiter = { pred, resolve })),
  };
}
const has =
  (...want: string[]) =>
  (s: ClusterSnapshot) =>
    names(s).join() === want.join();

test(
  'FileClusterSource delivers a snapshot at start and one after a change',
  { timeout: 60_000 },
  withDir(async (dir) => {
    writeFileSync(join(dir, 'a.yaml'), DENY);
    const w = await watching([dir]);
    try {
      assert.deepEqual(names(w.seen[0] as ClusterSnapshot), ['deny']);
      const next = w.next(has('allow', 'deny'));
      writeFileSync(join(dir, 'b.yaml'), ALLOW_80);
      await next;
    } finally {
      await w.stop();
    }
  }),
);

describe('FileClusterSource follows its paths through being replaced', { timeout: 60_000 }, () => {
  test(
    'a directory deleted and created again: held while gone, followed once back, edits after that too',
    withDir(async (root) => {
      const dir = join(root, 'manifests');
      mkdirSync(dir);
      writeFileSync(join(dir, 'a.yaml'), DENY);
      const w = await watching([dir], { emptyHoldMs: 60_000 });
      try {
        const gone = w.next((s) => codes(s).includes('KeptLastGood'));
        rmSync(dir, { recursive: true });
        assert.deepEqual(names(await gone), ['deny'], 'the last good content while the directory is gone');
        const back = w.next(has('allow'));
        mkdirSync(dir);
        writeFileSync(join(dir, 'b.yaml'), ALLOW_80);
        await back;
        const edited = w.next(has('allow', 'deny'));
        writeFileSync(join(dir, 'a.yaml'), DENY);
        await edited;
      } finally {
        await w.stop();
      }
    }),
  );

  test(
    'a directory renamed away and another renamed into its place',
    withDir(async (root) => {
      const dir = join(root, 'manifests');
      mkdirSync(dir);
      writeFileSync(join(dir, 'a.yaml'), DENY);
      const w = await watching([dir]);
      try {
        const moved = w.next((s) => codes(s).includes('KeptLastGood'));
        renameSync(dir, join(root, 'old'));
        assert.deepEqual(names(await moved), ['deny']);
        mkdirSync(join(root, 'new'));
        writeFileSync(join(root, 'new', 'b.yaml'), ALLOW_80);
        const back = w.next(has('allow'));
        renameSync(join(root, 'new'), dir);
        await back;
        const edited = w.next(has('allow', 'deny'));
        writeFileSync(join(dir, 'c.yaml'), DENY);
        await edited;
      } finally {
        await w.stop();
      }
    }),
  );

  test(
    'the whole tree swapped by renaming a symlink over the path (ln -sfn deploys)',
    withDir(async (root) => {
      mkdirSync(join(root, 'v1'));
      writeFileSync(join(root, 'v1', 'a.yaml'), DENY);
      symlinkSync('v1', join(root, 'current'));
      const w = await watching([join(root, 'current')]);
      try {
        mkdirSync(join(root, 'v2'));
        writeFileSync(join(root, 'v2', 'b.yaml'), ALLOW_80);
        const swapped = w.next(has('allow'));
        symlinkSync('v2', join(root, 'current.tmp'));
        renameSync(join(root, 'current.tmp'), join(root, 'current'));
        await swapped;
        const edited = w.next(has('allow', 'deny'));
        writeFileSync(join(root, 'v2', 'a.yaml'), DENY);
        await edited;
      } finally {
        await w.stop();
      }
    }),
  );

  test(
    'a ConfigMap volume update (the ..data symlink swapped to a new timestamped directory)',
    withDir(async (dir) => {
      mkdirSync(join(dir, '..2026_01'));
      writeFileSync(join(dir, '..2026_01', 'policies.yaml'), DENY);
      symlinkSync('..2026_01', join(dir, '..data'));
      symlinkSync('..data/policies.yaml', join(dir, 'policies.yaml'));
      const w = await watching([dir]);
      try {
        assert.deepEqual(names(w.seen[0] as ClusterSnapshot), ['deny']);
        mkdirSync(join(dir, '..2026_02'));
        writeFileSync(join(dir, '..2026_02', 'policies.yaml'), ALLOW_80);
        const updated = w.next(has('allow'));
        symlinkSync('..2026_02', join(dir, '..data_tmp'));
        renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
        rmSync(join(dir, '..2026_01'), { recursive: true });
        await updated;
      } finally {
        await w.stop();
      }
    }),
  );
});

describe('ManifestReader: losing the input is not an edit (fail closed)', () => {
  test(
    'a path missing at start: the snapshot is incomplete (not to be applied)',
    withDir(async (dir) => {
      const s = await new ManifestReader({ paths: [join(dir, 'absent')], recursive: false }).read();
      assert.match(s.incomplete ?? '', /cannot read .*absent/);
    }),
  );

  test(
    'a file emptied in place keeps its last good content; deleting it is an edit',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'a.yaml'), DENY);
      writeFileSync(join(dir, 'b.yaml'), ALLOW_80);
      const reader = new ManifestReader({ paths: [dir], recursive: false });
      await reader.read();
      writeFileSync(join(dir, 'b.yaml'), '');
      const emptied = await reader.read();
      assert.deepEqual(names(emptied), ['allow', 'deny']);
      assert.ok(codes(emptied).includes('KeptLastGood'));
      assert.equal(emptied.incomplete, undefined);
      assert.ok(reader.pending, 'read again until fixed');
      rmSync(join(dir, 'b.yaml'));
      const deleted = await reader.read();
      assert.deepEqual(names(deleted), ['deny']);
      assert.deepEqual(codes(deleted), []);
    }),
  );

  test(
    'an unreadable file and an unreadable directory keep their last good content until fixed',
    withDir(async (dir) => {
      // The unprivileged reader must reach the directory (mkdtemp makes it 0700).
      chmodSync(dir, 0o755);
      const sub = join(dir, 'm');
      mkdirSync(sub, { mode: 0o755 });
      writeFileSync(join(sub, 'a.yaml'), DENY);
      writeFileSync(join(sub, 'b.yaml'), ALLOW_80);
      const reader = new ManifestReader({ paths: [sub], recursive: false });
      await reader.read();
      chmodSync(join(sub, 'b.yaml'), 0);
      const file = await unprivileged(() => reader.read());
      assert.deepEqual(names(file), ['allow', 'deny']);
      assert.deepEqual(
        file.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.file}`),
        [`ReadError ${join(sub, 'b.yaml')}`, `KeptLastGood ${join(sub, 'b.yaml')}`],
      );
      chmodSync(join(sub, 'b.yaml'), 0o644);
      chmodSync(sub, 0);
      const directory = await unprivileged(() => reader.read());
      assert.deepEqual(names(directory), ['allow', 'deny']);
      assert.deepEqual(codes(directory), ['ReadError', 'KeptLastGood', 'KeptLastGood']);
      assert.equal(directory.incomplete, undefined);
      chmodSync(sub, 0o755);
      const fixed = await unprivileged(() => reader.read());
      assert.deepEqual(codes(fixed), []);
      assert.equal(reader.pending, false);
    }),
  );

  test(
    'a directory emptied: held for emptyHoldMs, then "no policies" (the deliberate way to remove all)',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'a.yaml'), DENY);
      let now = 0;
      const reader = new ManifestReader({ paths: [dir], recursive: false, emptyHoldMs: 1000, now: () => now });
      await reader.read();
      rmSync(join(dir, 'a.yaml'));
      const held = await reader.read();
      assert.deepEqual(names(held), ['deny']);
      assert.ok(held.diagnostics.some((d) => d.code === 'HeldEmpty'));
      now = 999;
      assert.deepEqual(names(await reader.read()), ['deny']);
      now = 1000;
      const empty = await reader.read();
      assert.deepEqual(names(empty), []);
      assert.deepEqual(empty.diagnostics, []);
      assert.equal(reader.pending, false);
    }),
  );
});

/**
 * Runs `fn` as an unprivileged user when the tests run as root (root reads files whatever their mode):
 * the effective uid, which the kernel checks file access against, is switched for the call and back.
 */
async function unprivileged<T>(fn: () => Promise<T>): Promise<T> {
  if (process.geteuid?.() !== 0 || !process.seteuid) return fn();
  process.seteuid(65534);
  try {
    return await fn();
  } finally {
    process.seteuid(0);
  }
}

describe('ManifestReader keeps the objects of what did not change', () => {
  const pod = (name: string, app: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: app, labels: {app: ${app}}}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.${name.charCodeAt(0)}}
`;
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n';

  test(
    'nothing changed: the same cluster; one pod edited: a new object for it alone, the rest as before',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'ns.yaml'), ns);
      writeFileSync(join(dir, 'pods.yaml'), [pod('a', 'web'), pod('b', 'web'), pod('c', 'db')].join('---\n'));
      writeFileSync(join(dir, 'policies.yaml'), `${DENY}---\n${ALLOW_80}`);
      const reader = new ManifestReader({ paths: [dir], recursive: false });
      const s1 = await reader.read();
      const s2 = await reader.read();
      assert.equal(s2.cluster, s1.cluster);
      assert.ok(s2.generation > s1.generation);

      writeFileSync(join(dir, 'pods.yaml'), [pod('a', 'web'), pod('b', 'api'), pod('c', 'db')].join('---\n'));
      const s3 = await reader.read();
      const [a1, b1, c1] = s1.cluster.pods;
      const [a3, b3, c3] = s3.cluster.pods;
      assert.equal(a3, a1);
      assert.equal(c3, c1);
      assert.notEqual(b3, b1);
      assert.deepEqual(b3?.labels, { app: 'api' });
      assert.equal(s3.cluster.policies, s1.cluster.policies, 'another file: the same list');
      assert.equal(s3.cluster.namespaces, s1.cluster.namespaces);

      // The policies rewritten with the same content: the same objects and list.
      writeFileSync(join(dir, 'policies.yaml'), `${DENY}---\n${ALLOW_80}`.replace('metadata: {name: deny, namespace: app}', 'metadata: {namespace: app, name: deny}'));
      const s4 = await reader.read();
      assert.equal(s4.cluster.policies, s1.cluster.policies);
      // Moved within its file: a new object (its position is part of it), equal otherwise.
      writeFileSync(join(dir, 'policies.yaml'), `${ALLOW_80}---\n${DENY}`);
      const s5 = await reader.read();
      const deny1 = s1.cluster.policies.find((p) => p.name === 'deny');
      const deny5 = s5.cluster.policies.find((p) => p.name === 'deny');
      assert.notEqual(deny5, deny1);
      assert.deepEqual(deny5?.policy, deny1?.policy);
      assert.notEqual(deny5?.source?.line, deny1?.source?.line);
    }),
  );
});

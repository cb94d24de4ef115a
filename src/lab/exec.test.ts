import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkPrerequisites, LabError, requirePrerequisites, runChecked } from './exec.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('prerequisites', () => {
  test('a missing tool is named with the Debian package that provides it', () => {
    const p = checkPrerequisites(['nft', 'no-such-tool-for-netpol']);
    assert.ok(
      p.missing.some((m) => m.startsWith('no-such-tool-for-netpol (')),
      p.missing.join('; '),
    );
    assert.throws(
      () => requirePrerequisites(['no-such-tool-for-netpol']),
      (e: unknown) => e instanceof LabError && /missing .*no-such-tool-for-netpol/.test(e.message) && e.details.missing!.length >= 1,
    );
  });

  test('not root: a LabError that says so, before anything is created', (t) => {
    let out: string;
    if (process.getuid?.() !== 0) {
      try {
        requirePrerequisites(['ip']);
        assert.fail('expected a LabError');
      } catch (e) {
        out = `${(e as LabError).code} ${(e as LabError).message}`;
      }
    } else {
      // As root, ask a child process running as nobody.
      const script = "import { requirePrerequisites } from './src/lab/exec.ts'; try { requirePrerequisites(['ip']); console.log('ok'); } catch (e) { console.log(e.code, e.message); }";
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { uid: 65534, gid: 65534, cwd: ROOT, encoding: 'utf8' });
      if (r.error || r.status !== 0) {
        t.skip(`cannot run a child as nobody: ${r.error?.message ?? String(r.stderr).slice(0, 200)}`);
        return;
      }
      out = r.stdout;
    }
    assert.match(out!, /^not-root the lab cannot run: missing root \(running as uid \d+/);
  });
});

describe('runChecked', () => {
  test('a failing command is a LabError naming the command and its stderr', async () => {
    await assert.rejects(
      runChecked(process.execPath, ['-e', 'process.stderr.write("boom"); process.exit(3)']),
      (e: unknown) => e instanceof LabError && e.code === 'command-failed' && /exit 3\): boom$/.test(e.message),
    );
  });

  test('input is piped to the program', async () => {
    const r = await runChecked(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], { input: 'hello' });
    assert.equal(r.stdout, 'hello');
  });
});

/**
 * The kernel log reader on the real /dev/kmsg (root): a record written to the kernel log comes back with
 * its message and a wall time close to now, the reading thread runs at its raised priority, and stop ends
 * the thread. The record written is `netpol reader-test <nonce>`: our prefix (the reader keeps it) but no
 * action, so other agents reading the same kernel log ignore it (neither an event nor `unparsed`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { KmsgReader } from './kmsg-reader.js';
import type { KmsgRecord } from './kmsg.js';

function skipReason(): string | false {
  if (process.platform !== 'linux' || !existsSync('/dev/kmsg')) return 'needs Linux /dev/kmsg';
  if (process.getuid?.() !== 0) return 'needs root (writing to /dev/kmsg; reading it with kernel.dmesg_restrict=1)';
  return false;
}
const skip = skipReason();

/** The nice value of each thread of this process. */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').flatMap((t) => {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !ok();) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a record written right after start is read back with its time; the reader thread runs at nice -10 and ends on stop', { skip }, async () => {
  const records: { r: KmsgRecord; wallMs: number }[] = [];
  const reader = new KmsgReader();
  reader.start(
    (r, wallMs) => records.push({ r, wallMs }),
    () => {},
  );
  try {
    const message = `netpol reader-test ${process.pid}-${Date.now()}`;
    // Written as soon as start returns, before the reading thread runs: new, not history.
    const fd = openSync('/dev/kmsg', constants.O_WRONLY);
    const written = Date.now();
    try {
      writeSync(fd, `<7>${message}\n`);
    } finally {
      closeSync(fd);
    }
    await until('the record', () => records.some((x) => x.r.message === message));
    const got = records.find((x) => x.r.message === message)!;
    assert.ok(Math.abs(got.wallMs - written) < 1000, `logged at ${got.wallMs}, written at ${written}`);
    await until('the reader thread at nice -10', () => threadNices().includes(-10));
  } finally {
    reader.stop();
  }
  await until('the reader thread to end', () => !threadNices().includes(-10));
});

test('a path that cannot be opened is an error of start, not of the thread', { skip }, () => {
  assert.throws(
    () =>
      new KmsgReader({ path: '/nonexistent/kmsg' }).start(
        () => {},
        () => {},
      ),
    /ENOENT/,
  );
});

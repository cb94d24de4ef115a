/**
 * Progress for long loads and analyses: one self-overwriting line on stderr, only when stderr is a
 * terminal (never in pipes, files or CI logs), at most ~10 updates a second.
 */
import type { IO } from './io.js';

export interface ProgressLine {
  update(label: string, done: number, total: number): void;
  /** Clears the line. */
  done(): void;
}

const SILENT: ProgressLine = { update: () => {}, done: () => {} };

export function progressLine(io: IO): ProgressLine {
  if (!io.stderrIsTTY) return SILENT;
  let last = 0;
  let shown = false;
  return {
    update(label, done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      shown = true;
      const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
      io.stderr(`\r\x1b[K${label} ${done}/${total} (${pct}%)`);
    },
    done() {
      if (shown) io.stderr('\r\x1b[K');
      shown = false;
    },
  };
}

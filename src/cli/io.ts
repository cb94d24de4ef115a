/** What a command may touch: its streams, and whether stderr is a terminal. Paths are relative to the process's working directory. */
export interface IO {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin?: AsyncIterable<string | Buffer>;
  /** stderr is a terminal (progress and colour only then). */
  stderrIsTTY?: boolean;
  /** Colour verdicts on stdout (a terminal, NO_COLOR unset). */
  color?: boolean;
  /** Resolves when stdout can take more (backpressure for streamed outputs); absent: always. */
  flush?(): Promise<void>;
  /** Ends commands that run until interrupted (`watch`); in-process callers use it instead of a signal. */
  signal?: AbortSignal;
}

/** Exit codes, documented in docs/cli.md. */
export const EXIT = {
  /** Valid / allowed / done. */
  OK: 0,
  /** A negative answer: invalid input for `validate`, denied for `check`. */
  NEGATIVE: 1,
  /** Usage errors, unreadable input, or input that cannot be analysed (invalid policies). */
  ERROR: 2,
} as const;

export class UsageError extends Error {}

/** The CLI run in-process, as the tests use it: `run(argv, io)` with captured streams and optional stdin. */
import { Readable } from 'node:stream';
import { run } from '../src/cli/main.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function netpol(argv: readonly string[], stdin?: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run([...argv], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    ...(stdin !== undefined ? { stdin: Readable.from([stdin]) } : {}),
  });
  return { code, stdout, stderr };
}

/** The command line: `run(argv, io)` is the whole program; `bin.ts` wires it to the process. */
export { run, EXIT } from './main.js';
export { UsageError } from './io.js';
export type { IO } from './io.js';

/** Writes docs/diagnostics.md from the table of diagnostic codes (src/diag/codes.ts). */
import { writeFileSync } from 'node:fs';
import { diagnosticCodesMarkdown } from '../src/diag/codes.js';

writeFileSync(new URL('../docs/diagnostics.md', import.meta.url), diagnosticCodesMarkdown());

/** The text rendering of a diagnostic for a terminal: every part that comes from input escaped. */
import { formatDiagnostic, type Diagnostic } from '../../diag/index.js';
import { safeMessage, safeText } from './escape.js';

/**
 * `file:line:col: severity: object: path: message` with file, object and path through safeText and the
 * message through safeMessage (API-server messages quote bad values Go-style; their escapes stay).
 */
export function diagnosticText(d: Diagnostic, label?: string): string {
  const safe: Diagnostic = {
    ...d,
    message: safeMessage(d.message),
    ...(d.file !== undefined ? { file: safeText(d.file) } : {}),
    ...(d.object !== undefined ? { object: safeText(d.object) } : {}),
    ...(d.path !== undefined ? { path: safeText(d.path) } : {}),
  };
  return formatDiagnostic(safe, label);
}

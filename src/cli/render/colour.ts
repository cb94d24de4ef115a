/**
 * Colour for verdicts on a terminal: ALLOWED green, DENIED red, PARTLY ALLOWED yellow, at the start of a
 * line. Applied after escaping (escape.ts), so the only escape sequences in the output are these. The
 * caller decides whether to colour (stdout a terminal, NO_COLOR unset, TERM not dumb).
 */
const CODES: Record<string, string> = { ALLOWED: '32', DENIED: '31', 'PARTLY ALLOWED': '33' };

export function colourVerdicts(text: string): string {
  return text.replace(/^(PARTLY ALLOWED|ALLOWED|DENIED)(?=[: ])/gm, (w) => `\x1b[1;${CODES[w]}m${w}\x1b[0m`);
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off; so does a dumb terminal or a pipe. */
export function wantsColour(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
}

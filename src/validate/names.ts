/**
 * String-format checks from apimachinery, each returning the list of detail messages the Go function
 * returns (empty when valid). Regexes and wording follow, as looked up with the library:
 * - k8s.io/apimachinery/pkg/util/validation/validation.go (kubernetes/kubernetes staging, commit
 *   008b3652959ca58af8be3fb5b6ecfe9ae7638282): IsDNS1123Label, IsDNS1123Subdomain, IsValidPortName,
 *   IsValidPortNum, and its MaxLenError ("must be no more than N characters");
 * - k8s.io/apimachinery/pkg/api/validate/content (kube.go 26c0309663d6, dns.go 424faa31eecd, errors.go
 *   248642091bda): IsLabelKey (= IsQualifiedName), IsLabelValue, and content's MaxLenError
 *   ("must be no more than N bytes"), which the label checks use.
 *
 * Design choice: lengths are UTF-8 byte counts, as Go's `len(string)`; the patterns are the Go ones,
 * which mean the same in JavaScript (ASCII classes, anchored, no multiline).
 */

/** Go's len(s): the UTF-8 byte length. */
export function byteLength(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) n += 1;
    else if (cp < 0x800) n += 2;
    else if (cp >= 0xd800 && cp <= 0xdfff)
      n += 3; // lone surrogate, becomes U+FFFD
    else if (cp < 0x10000) n += 3;
    else n += 4;
  }
  return n;
}

// --- message builders ---

/** util/validation MaxLenError. */
function maxLenChars(length: number): string {
  return `must be no more than ${length} characters`;
}

/** content MaxLenError. */
function maxLenBytes(length: number): string {
  return `must be no more than ${length} bytes`;
}

/** RegexError: `msg (e.g. 'a',  or 'b', regex used for validation is 're')` — note Go's double space. */
export function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) out += ' or ';
    out += `'${ex}', `;
  });
  return `${out}regex used for validation is '${re}')`;
}

export function emptyError(): string {
  return 'must be non-empty';
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

const anchored = (fmt: string): RegExp => new RegExp(`^${fmt}$`);

// --- DNS names ---

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_ERR = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_MAX = 63;
const DNS1123_LABEL_RE = anchored(DNS1123_LABEL_FMT);

const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MAX = 253;
const DNS1123_SUBDOMAIN_RE = anchored(DNS1123_SUBDOMAIN_FMT);

function dns1123Label(value: string, maxLen: (n: number) => string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(maxLen(DNS1123_LABEL_MAX));
  if (!DNS1123_LABEL_RE.test(value)) {
    // A valid subdomain that is not a valid label (length already checked) must contain dots.
    if (DNS1123_SUBDOMAIN_RE.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

function dns1123Subdomain(value: string, maxLen: (n: number) => string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLen(DNS1123_SUBDOMAIN_MAX));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** IsDNS1123Label (util/validation): namespace names. */
export function isDNS1123Label(value: string): string[] {
  return dns1123Label(value, maxLenChars);
}

/** IsDNS1123Subdomain (util/validation): object names. */
export function isDNS1123Subdomain(value: string): string[] {
  return dns1123Subdomain(value, maxLenChars);
}

/**
 * NameIsDNSSubdomain (api/validation/generic.go). With `prefix` (a generateName), a trailing dash is
 * masked first, the way Go's maskTrailingDash does it: the last two characters become "a".
 */
export function nameIsDNSSubdomain(name: string, prefix: boolean): string[] {
  let n = name;
  // (Go would index out of range on a lone "-"; we validate it unmasked instead.)
  if (prefix && n.endsWith('-') && n.length >= 2) n = `${n.slice(0, n.length - 2)}a`;
  return isDNS1123Subdomain(n);
}

/** NameIsDNSLabel (api/validation/generic.go): namespace names; `prefix` masks a trailing dash the same way. */
export function nameIsDNSLabel(name: string, prefix: boolean): string[] {
  let n = name;
  if (prefix && n.endsWith('-') && n.length >= 2) n = `${n.slice(0, n.length - 2)}a`;
  return isDNS1123Label(n);
}

const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL_ERR = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1035_LABEL_RE = anchored(DNS1035_LABEL_FMT);

/** IsDNS1035Label (util/validation): Service names. */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(maxLenChars(DNS1123_LABEL_MAX));
  if (!DNS1035_LABEL_RE.test(value)) errs.push(regexError(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  return errs;
}

/** NameIsDNS1035Label (api/validation/generic.go): Service names; `prefix` masks a trailing dash. */
export function nameIsDNS1035Label(name: string, prefix: boolean): string[] {
  let n = name;
  if (prefix && n.endsWith('-') && n.length >= 2) n = `${n.slice(0, n.length - 2)}a`;
  return isDNS1035Label(n);
}

// --- label keys and values ---

const LABEL_KEY_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_KEY_ERR = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_KEY_MAX = 63;
const LABEL_KEY_RE = anchored(LABEL_KEY_FMT);

/** IsQualifiedName / content.IsLabelKey: `[prefix/]name`. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else errs.push(...dns1123Subdomain(prefix, maxLenBytes).map((m) => `prefix part ${m}`));
  } else {
    return [`a valid label key ${regexError(LABEL_KEY_ERR, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > LABEL_KEY_MAX) errs.push(`name part ${maxLenBytes(LABEL_KEY_MAX)}`);
  if (!LABEL_KEY_RE.test(name)) errs.push(`name part ${regexError(LABEL_KEY_ERR, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const LABEL_VALUE_ERR = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MAX = 63;
const LABEL_VALUE_RE = anchored(LABEL_VALUE_FMT);

/** IsValidLabelValue / content.IsLabelValue. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX) errs.push(maxLenBytes(LABEL_VALUE_MAX));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

// --- ports ---

/** IsValidPortNum: 1-65535. */
export function isValidPortNum(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/**
 * IsValidPortName (an IANA_SVC_NAME): at most 15 characters of [-a-z0-9], at least one letter,
 * no leading, trailing or consecutive hyphens.
 */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenChars(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

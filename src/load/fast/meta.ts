/** metav1.ObjectMeta on the fast path: the fields read, the others type-checked, strict when asked. */
import { TOTAL_ANNOTATION_SIZE_LIMIT, validateNamespacedMeta, validateNamespaceMeta } from '../../validate/index.js';
import { int32, isRec, list, onlyKeys, str, strMap } from './fields.js';
import { give } from './unsupported.js';

const OWNER_KEYS = new Set(['apiVersion', 'kind', 'name', 'uid', 'controller', 'blockOwnerDeletion']);

export interface Meta {
  readonly name?: string;
  readonly generateName?: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** metav1.ObjectMeta: the fields read, and type checks of the others declared (managedFields gives up). */
export function meta(v: unknown, strict: boolean): Meta {
  if (v === undefined || v === null) return {};
  if (!isRec(v)) give('metadata is not a map');
  // The fields present, each checked by its kind (absent ones need no check; an inherited key could
  // only make the fast path give up).
  let labels: Record<string, string> | undefined;
  let annotations: Record<string, string> | undefined;
  for (const k in v) {
    switch (k) {
      case 'name':
      case 'generateName':
      case 'namespace':
      case 'selfLink':
      case 'uid':
      case 'resourceVersion':
      case 'creationTimestamp':
      case 'deletionTimestamp':
        str(v, k);
        break;
      case 'generation':
      case 'deletionGracePeriodSeconds':
        int32(v[k], k); // int64 in the API: larger values are left to the reference loader
        break;
      case 'labels':
        labels = strMap(v.labels, 'labels');
        break;
      case 'annotations':
        annotations = strMap(v.annotations, 'annotations');
        break;
      case 'finalizers':
        for (const f of list(v.finalizers, 'finalizers') ?? []) if (typeof f !== 'string') give('finalizers');
        break;
      case 'ownerReferences':
        for (const o of list(v.ownerReferences, 'ownerReferences') ?? []) {
          if (!isRec(o)) give('ownerReferences');
          if (strict) onlyKeys(o, OWNER_KEYS, 'ownerReferences');
          for (const r of ['apiVersion', 'kind', 'name', 'uid']) str(o, r);
          for (const r of ['controller', 'blockOwnerDeletion']) if (o[r] !== undefined && o[r] !== null && typeof o[r] !== 'boolean') give(r);
        }
        break;
      case 'managedFields':
        give('managedFields');
        break;
      default:
        if (strict) give(`unknown field metadata.${k}`);
    }
  }
  const out: { -readonly [K in keyof Meta]: Meta[K] } = {};
  const name = str(v, 'name');
  const generateName = str(v, 'generateName');
  const namespace = str(v, 'namespace');
  if (name !== undefined) out.name = name;
  if (generateName !== undefined) out.generateName = generateName;
  if (namespace !== undefined) out.namespace = namespace;
  if (labels !== undefined) out.labels = labels;
  if (annotations !== undefined) out.annotations = annotations;
  return out;
}

/**
 * Whether the API server's ObjectMeta checks (src/validate: validateNamespacedMeta for a Pod,
 * validateNamespaceMeta for a Namespace) find nothing. Character loops accept the names, namespaces,
 * label keys and values and annotation keys that the validators' patterns and lengths accept (ASCII
 * only, so characters are bytes); whatever they do not accept, or a generateName, is judged by the
 * validator itself, so the answer is always the validator's.
 */
export const metaValidity = {
  /** validateNamespacedMeta(m) finds nothing (a Pod's metadata). */
  pod(m: Meta): boolean {
    const ns = m.namespace;
    return (dnsName(m.name, 253, true) && (ns === undefined || ns === '' || dnsName(ns, 63, false)) && rest(m)) || validateNamespacedMeta(m).length === 0;
  },
  /** validateNamespaceMeta(m) finds nothing (a Namespace's metadata). */
  namespace(m: Meta): boolean {
    return (dnsName(m.name, 63, false) && (m.namespace === undefined || m.namespace === '') && rest(m)) || validateNamespaceMeta(m).length === 0;
  },
};

/** No generateName, and labels and annotations the validators accept (false: not known, ask them). */
function rest(m: Meta): boolean {
  if (m.generateName !== undefined && m.generateName !== '') return false;
  const labels = m.labels;
  if (labels !== undefined) {
    for (const k in labels) {
      const v = labels[k]!;
      // ValidateLabels: IsQualifiedName(key), IsValidLabelValue(value) (at most 63 bytes, may be empty).
      if (!qualifiedName(k, false) || (v !== '' && (v.length > 63 || !qualifiedPart(v, 0, v.length)))) return false;
    }
  }
  const annotations = m.annotations;
  if (annotations !== undefined) {
    // At most 3 bytes of UTF-8 per UTF-16 unit: below the limit without counting bytes.
    let units = 0;
    for (const k in annotations) {
      // ValidateAnnotations: IsQualifiedName(lower-cased key), which an upper-case ASCII letter passes.
      if (!qualifiedName(k, true)) return false;
      units += k.length + annotations[k]!.length;
    }
    if (3 * units > TOTAL_ANNOTATION_SIZE_LIMIT) return false;
  }
  return true;
}

/**
 * `value` is a lowercase RFC 1123 label (`dots` false) or subdomain (true) of at most `max` characters,
 * as isDNS1123Label and isDNS1123Subdomain check it: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, dot-separated for
 * a subdomain.
 */
export function dnsName(value: string | undefined, max: number, dots: boolean): boolean {
  return value !== undefined && dnsRange(value, 0, value.length, max, dots, false);
}

/** The ASCII characters names are made of, by class (0: none of them). */
const LOWER = 1; // a-z, 0-9
const UPPER = 2; // A-Z
const DASH = 4;
const DOT = 8;
const UNDERSCORE = 16;
const CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) CHARS[c] = LOWER;
  else if (c >= 65 && c <= 90) CHARS[c] = UPPER;
}
CHARS[45] = DASH;
CHARS[46] = DOT;
CHARS[95] = UNDERSCORE;

function charClass(c: number): number {
  return c < 128 ? CHARS[c]! : 0;
}

/** `dnsName` on t[a, b); `upper` also takes A-Z (a text the validator lower-cases first). */
function dnsRange(t: string, a: number, b: number, max: number, dots: boolean, upper: boolean): boolean {
  if (b <= a || b - a > max) return false;
  const alnum = upper ? LOWER | UPPER : LOWER;
  // The class of the previous character; a dot before the first one: a label starts there.
  let prev = DOT;
  for (let k = a; k < b; k++) {
    const f = charClass(t.charCodeAt(k));
    if ((f & alnum) !== 0) prev = LOWER;
    else if (f === DASH && prev !== DOT) prev = DASH;
    else if (f === DOT && dots && prev === LOWER) prev = DOT;
    else return false;
  }
  return prev === LOWER;
}

/**
 * `key` passes IsQualifiedName: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63
 * characters of `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` (a second `/` is not one of them).
 */
export function qualifiedName(key: string, upperPrefix: boolean): boolean {
  const slash = key.indexOf('/');
  const start = slash + 1;
  if (slash >= 0 && !dnsRange(key, 0, slash, 253, true, upperPrefix)) return false;
  return key.length - start <= 63 && qualifiedPart(key, start, key.length);
}

/** t[a, b) is `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`. */
function qualifiedPart(t: string, a: number, b: number): boolean {
  if (b <= a || (charClass(t.charCodeAt(a)) & (LOWER | UPPER)) === 0 || (charClass(t.charCodeAt(b - 1)) & (LOWER | UPPER)) === 0) return false;
  for (let k = a + 1; k < b - 1; k++) if (charClass(t.charCodeAt(k)) === 0) return false;
  return true;
}

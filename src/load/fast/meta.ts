/** metav1.ObjectMeta on the fast path: the fields read, the others type-checked, strict when asked. */
import { isDNS1123Label, isQualifiedName, isValidLabelValue, TOTAL_ANNOTATION_SIZE_LIMIT, validateAnnotations, validateNamespacedMeta, validateNamespaceMeta } from '../../validate/index.js';
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
 * validateNamespaceMeta for a Namespace) find nothing, for one load. Label keys and values, annotation
 * keys and namespaces repeat across thousands of objects: each text the validator found valid is
 * remembered, and not checked again. Names do not repeat: a character loop accepts the ones the
 * validator's pattern accepts. Whatever these shortcuts do not accept is judged by the validator itself,
 * so the answer is the validator's.
 */
export class MetaValidity {
  private readonly labelKeys = new Set<string>();
  private readonly labelValues = new Set<string>();
  private readonly annotationKeys = new Set<string>();
  private readonly namespaces = new Set<string>();

  /** validateNamespacedMeta(m) finds nothing (a Pod's metadata). */
  pod(m: Meta): boolean {
    return (dnsName(m.name, 253, true) && this.namespaceOk(m.namespace) && this.rest(m)) || validateNamespacedMeta(m).length === 0;
  }

  /** validateNamespaceMeta(m) finds nothing (a Namespace's metadata). */
  namespace(m: Meta): boolean {
    return (dnsName(m.name, 63, false) && (m.namespace === undefined || m.namespace === '') && this.rest(m)) || validateNamespaceMeta(m).length === 0;
  }

  /** No generateName, and labels and annotations the validator accepts (false: not known, ask it). */
  private rest(m: Meta): boolean {
    if (m.generateName !== undefined && m.generateName !== '') return false;
    const labels = m.labels;
    if (labels !== undefined) {
      for (const k in labels) {
        if (!this.labelKeys.has(k)) {
          if (isQualifiedName(k).length > 0) return false;
          this.labelKeys.add(k);
        }
        const v = labels[k]!;
        if (!this.labelValues.has(v)) {
          if (isValidLabelValue(v).length > 0) return false;
          this.labelValues.add(v);
        }
      }
    }
    const annotations = m.annotations;
    if (annotations !== undefined) {
      // At most 3 bytes of UTF-8 per UTF-16 unit: below the limit without counting bytes.
      let units = 0;
      for (const k in annotations) {
        if (!this.annotationKeys.has(k)) {
          if (validateAnnotations({ [k]: '' }, 'metadata.annotations').length > 0) return false;
          this.annotationKeys.add(k);
        }
        units += k.length + annotations[k]!.length;
      }
      if (3 * units > TOTAL_ANNOTATION_SIZE_LIMIT) return false;
    }
    return true;
  }

  /** A namespace the validator accepts (absent or empty: kubectl's `default`). */
  private namespaceOk(ns: string | undefined): boolean {
    if (ns === undefined || ns === '' || this.namespaces.has(ns)) return true;
    if (isDNS1123Label(ns).length > 0) return false;
    this.namespaces.add(ns);
    return true;
  }
}

/**
 * `value` is a lowercase RFC 1123 label (`dots` false) or subdomain (true) of at most `max` characters,
 * as isDNS1123Label and isDNS1123Subdomain check it: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, dot-separated for
 * a subdomain (ASCII only, so characters are bytes).
 */
export function dnsName(value: string | undefined, max: number, dots: boolean): boolean {
  if (value === undefined) return false;
  const n = value.length;
  if (n === 0 || n > max) return false;
  // The previous character; a dot before the first one: a label starts there.
  let prev = 46;
  for (let k = 0; k < n; k++) {
    const c = value.charCodeAt(k);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c === 45 && prev !== 46) || (c === 46 && dots && prev !== 46 && prev !== 45)) prev = c;
    else return false;
  }
  return prev !== 45 && prev !== 46;
}

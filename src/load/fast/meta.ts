/** metav1.ObjectMeta on the fast path: the fields read, the others type-checked, strict when asked. */
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

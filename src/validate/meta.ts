/**
 * ObjectMeta validation of a namespaced object on create, as apimachinery's
 * k8s.io/apimachinery/pkg/api/validation/objectmeta.go (ValidateObjectMetaAccessor and
 * validateObjectMetaAccessorWithOptsCommon) does it, limited to the fields our model carries
 * (generateName, name, namespace, labels, annotations). Fields only the server sets (generation,
 * ownerReferences, finalizers, managedFields) are not ours to check.
 *
 * Design choice: mimic what a user sees from `kubectl create/apply`: a missing namespace is filled in
 * by kubectl from the context ("default"), so it is never reported missing.
 */

import type { Diagnostic } from '../diag/index.js';
import type { ObjectMeta } from '../model/index.js';
import { child, invalid, required, tooLong } from './field.js';
import { byteLength, isDNS1123Label, isQualifiedName } from './names.js';
import { validateLabels } from './selector.js';

/** TotalAnnotationSizeLimitB: 256 KiB over all keys and values. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** A name check returning Go-style detail messages; `prefix` is true for generateName. */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** Go's strings.ToLower maps rune by rune (simple case mapping). */
function goToLower(s: string): string {
  let out = '';
  for (const ch of s) {
    const lower = ch.toLowerCase();
    out += [...lower].length === 1 ? lower : ([...lower][0] ?? ch);
  }
  return out;
}

/** ValidateAnnotations: keys are qualified names ignoring case; total size at most 256 KiB. */
export function validateAnnotations(annotations: Readonly<Record<string, string>> | undefined, path: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    out.push(...isQualifiedName(goToLower(k)).map((msg) => invalid(path, k, msg)));
    total += byteLength(k) + byteLength(String(v));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) out.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return out;
}

/** ObjectMeta of a namespaced object being created. */
export function validateObjectMeta(meta: ObjectMeta | undefined, nameFn: NameValidator, path = 'metadata'): Diagnostic[] {
  const m: ObjectMeta = meta ?? {};
  const out: Diagnostic[] = [];
  const generateName = m.generateName ?? '';
  const name = m.name ?? '';

  if (generateName !== '') {
    out.push(...nameFn(generateName, true).map((msg) => invalid(child(path, 'generateName'), generateName, msg)));
  }
  if (name === '') {
    // With generateName the server generates the name before validating it. The generated name is
    // generateName (cut to 58 characters) plus 5 random characters, valid whenever generateName is, so
    // problems are reported once, on generateName.
    if (generateName === '') out.push(required(child(path, 'name'), 'name or generateName is required'));
  } else {
    out.push(...nameFn(name, false).map((msg) => invalid(child(path, 'name'), name, msg)));
  }

  // kubectl fills an absent namespace from the context; "default" stands in for it.
  const namespace = m.namespace === undefined || m.namespace === '' ? 'default' : m.namespace;
  out.push(...isDNS1123Label(namespace).map((msg) => invalid(child(path, 'namespace'), namespace, msg)));

  out.push(...validateLabels(m.labels, child(path, 'labels')));
  out.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  return out;
}

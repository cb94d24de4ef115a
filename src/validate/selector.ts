/**
 * Label and label-selector validation, as apimachinery's
 * k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go (ValidateLabelSelector,
 * ValidateLabelSelectorRequirement, ValidateLabelName, ValidateLabels) does it on create, i.e. with
 * AllowInvalidLabelValueInSelector = false.
 *
 * Design choice: reusable on its own (other kinds carry selectors too); the caller passes the
 * Kubernetes path of the selector. Label problems are reported at the map's path, not at a key:
 * that is what ValidateLabels does (`metadata.labels: Invalid value: "-x": ...`).
 */

import type { Diagnostic } from '../diag/index.js';
import type { LabelSelector, LabelSelectorRequirement } from '../model/index.js';
import { child, forbidden, index, invalid, required } from './field.js';
import { isQualifiedName, isValidLabelValue } from './names.js';

/** ValidateLabelName: the key must be a qualified name. */
export function validateLabelName(key: string, path: string): Diagnostic[] {
  return isQualifiedName(key).map((msg) => invalid(path, key, msg));
}

/** ValidateLabels: every key a qualified name, every value a label value; all reported at `path`. */
export function validateLabels(labels: Readonly<Record<string, string>> | undefined, path: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    out.push(...validateLabelName(k, path));
    out.push(...isValidLabelValue(String(v)).map((msg) => invalid(path, String(v), msg)));
  }
  return out;
}

function validateRequirement(req: LabelSelectorRequirement, path: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const values = req.values ?? [];
  const operator = req.operator ?? '';
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) out.push(required(child(path, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) out.push(forbidden(child(path, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      out.push(invalid(child(path, 'operator'), operator, 'not a valid selector operator'));
  }
  out.push(...validateLabelName(req.key ?? '', child(path, 'key')));
  // On create every value must be a valid label value (AllowInvalidLabelValueInSelector is false).
  values.forEach((value, i) => {
    out.push(...isValidLabelValue(value).map((msg) => invalid(index(child(path, 'values'), i), value, msg)));
  });
  return out;
}

/** ValidateLabelSelector: matchLabels as labels, then each matchExpressions entry. */
export function validateLabelSelector(sel: LabelSelector | undefined, path: string): Diagnostic[] {
  if (sel === undefined || sel === null) return [];
  const out = validateLabels(sel.matchLabels, child(path, 'matchLabels'));
  (sel.matchExpressions ?? []).forEach((req, i) => {
    out.push(...validateRequirement(req, index(child(path, 'matchExpressions'), i)));
  });
  return out;
}

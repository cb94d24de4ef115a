/**
 * ObjectMeta validation of the other kinds netpol reads, as the API server runs it on create:
 * Pods (pkg/apis/core/validation: ValidatePodName = NameIsDNSSubdomain), Namespaces (ValidateNamespaceName
 * = NameIsDNSLabel; cluster-scoped, so `metadata.namespace` is not allowed), and the workload kinds
 * (apps and batch validation: names are DNS subdomains) with their pod template's labels and
 * annotations (ValidatePodTemplateSpec validates the template's ObjectMeta under
 * `<template>.metadata`).
 *
 * Design choice: the model keeps only what analysis needs (no annotations, no workload labels), so the
 * loaders call this on the decoded objects, before the model is built. Pure: no IO.
 */
import type { Diagnostic } from '../diag/index.js';
import type { ObjectMeta } from '../model/index.js';
import { child, forbidden } from './field.js';
import { validateAnnotations, validateObjectMeta } from './meta.js';
import { nameIsDNSLabel, nameIsDNSSubdomain } from './names.js';
import { validateLabels } from './selector.js';

/** A Pod's or a workload's metadata (namespaced, names are DNS subdomains). */
export function validateNamespacedMeta(meta: ObjectMeta): Diagnostic[] {
  return validateObjectMeta(meta, nameIsDNSSubdomain);
}

/** A Namespace's metadata. */
export function validateNamespaceMeta(meta: ObjectMeta): Diagnostic[] {
  const { namespace, ...rest } = meta;
  // validateObjectMeta checks the namespace of namespaced objects; a Namespace has none.
  const out = validateObjectMeta({ ...rest, namespace: 'default' }, nameIsDNSLabel);
  if (namespace !== undefined && namespace !== '') out.push(forbidden('metadata.namespace', 'not allowed on this type'));
  return out;
}

/** A workload's pod template metadata: labels and annotations (its name and namespace are ignored by the server). */
export function validateTemplateMeta(meta: ObjectMeta, templatePath: string): Diagnostic[] {
  const path = child(templatePath, 'metadata');
  return [...validateLabels(meta.labels, child(path, 'labels')), ...validateAnnotations(meta.annotations, child(path, 'annotations'))];
}

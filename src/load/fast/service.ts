/**
 * Services on the fast path. They are few beside pods and policies, so they are decoded by the reference
 * rules themselves (src/load/kinds.ts's strict shape, then ValidateService) on the plain value, one home
 * for both paths; anything those rules would report hands the input over, as every problem does here.
 */
import type { ObjectSource } from '../../diag/index.js';
import type { ServiceInfo } from '../../model/index.js';
import { validateService } from '../../validate/index.js';
import { decodeKind } from '../kinds.js';
import { serviceInfo } from '../load.js';
import { plainNode } from '../yaml.js';
import type { Rec } from './fields.js';
import { give } from './unsupported.js';

export function service(apiVersion: string, value: Rec, namespace: string, name: string, source: ObjectSource): ServiceInfo {
  const { decoded, diagnostics } = decodeKind('Service', apiVersion, plainNode(value));
  if (diagnostics.length > 0 || decoded?.kind !== 'Service') give('a Service the reference decoder reports on');
  if (validateService(decoded.object).length > 0) give('an invalid Service');
  return serviceInfo(decoded.object, namespace, name, source);
}

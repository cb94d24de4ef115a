/**
 * The API server's NetworkPolicy validation (pkg/apis/networking/validation in kubernetes/kubernetes)
 * and the apimachinery checks it calls, as pure functions returning Diagnostics.
 */

export type { ValidateOptions } from './networkpolicy.js';
export { validateNetworkPolicy, validateNetworkPolicySpec, validateNetworkPolicyPort, validateNetworkPolicyPeer, validateNetworkPolicyName, validateIPBlock } from './networkpolicy.js';
export { validateCIDRValue, cidrWarnings, NON_STANDARD_CIDR } from './cidr.js';
export { validateLabelSelector, validateLabels, validateLabelName } from './selector.js';
export { validateObjectMeta, validateAnnotations, TOTAL_ANNOTATION_SIZE_LIMIT } from './meta.js';
export type { NameValidator } from './meta.js';
export {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
  nameIsDNSLabel,
  isDNS1035Label,
  nameIsDNS1035Label,
} from './names.js';
export type { FieldErrorType, BadValue } from './field.js';
export { goQuote } from './field.js';
export { validateClusterPolicy } from './crd/index.js';
export { validateNamespacedMeta, validateNamespaceMeta, validateTemplateMeta } from './objects.js';
export { validateCluster } from './cluster.js';
export { validateService } from './service.js';

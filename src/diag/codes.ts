/**
 * Every diagnostic code netpol emits, with its meaning: the one table. `Diagnostic.code` is typed by
 * it (a closed union, as eemeli/yaml's `ErrorCode`), so a new code cannot be emitted without a line
 * here, and docs/diagnostics.md is this table rendered (a test keeps them equal; `npm run docs:codes`
 * writes it).
 *
 * Codes are stable: tools match on them. The field error codes are the API server's own
 * (k8s.io/apimachinery/pkg/util/validation/field); the rest are netpol's.
 */

export const DIAGNOSTIC_CODES = {
  // Reading input
  ReadError: 'A file, directory or stdin could not be read.',
  NoObjects: 'The input holds no object (error), or none netpol reads (warning).',
  // YAML and JSON
  YAMLSyntax: 'The text is not valid YAML (or JSON).',
  YAMLWarning: "The YAML parser's warning (for example a tag it does not know).",
  YAMLAliasLimit: 'YAML aliases expand beyond the limit (an alias bomb): the document is refused.',
  DuplicateKey: 'A mapping has the same key twice (the API server refuses it).',
  // Decoding objects, as kubectl does
  InvalidObject: 'A document is not a Kubernetes object (not a mapping, or lists nested too deep).',
  MissingKind: 'The object has no `kind`.',
  MissingAPIVersion: 'The object has no `apiVersion`.',
  UnknownKind: 'A kind netpol does not read: ignored (a note).',
  NoKindMatch: 'A kind netpol reads, in a version the API does not serve, or spelt wrongly.',
  UnknownField: 'A field the API does not have (strict decoding), or one the cluster serves that netpol ignores (warning).',
  FieldValueTypeInvalid: 'A field of the wrong type (strict decoding).',
  // The API server's field errors, worded as it words them
  FieldValueInvalid: 'The API server would refuse this value.',
  FieldValueRequired: 'A required field is missing.',
  FieldValueNotSupported: 'A value outside the supported set.',
  FieldValueForbidden: 'A field that must not be set here.',
  FieldValueDuplicate: 'A value that appears twice where values must be unique.',
  FieldValueTooLong: 'A value longer than allowed.',
  FieldValueTooMany: 'A list with more items than allowed.',
  NonStandardCIDR: "A CIDR the API server accepts with a warning (host bits set, leading zeros): kube-apiserver's own warning.",
  // The loaded cluster
  Duplicate: 'The same object twice (or, in the editor, a document edited twice).',
  DuplicatePodName: 'Two pods (or pods of workloads) with the same namespace and name.',
  DuplicatePodIP: 'Two pods with the same address: questions about it are ambiguous.',
  InvalidPodIP: 'A pod address that is not an IP: ignored.',
  InvalidContainerPort: 'A container port without a number or with a bad one: ignored.',
  InvalidNodeAddress: 'A Node address that is not an IP: ignored.',
  MissingPodTemplate: 'A workload without a pod template contributes no pods.',
  ImplicitNamespace: 'A namespace used but not declared: it is assumed to carry only its name label.',
  SamePriorityOverlap: "Cluster-scoped policies of one tier and priority overlap: their order is netpol's choice.",
  UnsupportedProtocol: 'A protocol the API server accepts in a cluster-scoped policy that matches no traffic.',
  DomainNamesNotEnforced: 'domainNames peers are analysed, not enforced by the agent.',
  // A live cluster
  ClusterScopedUnreadable: 'The account cannot list a cluster-scoped policy kind: those policies are left out.',
  NamespaceUnreadable: 'The account cannot get the namespace: its labels are assumed.',
  NamespaceNotFound: 'The namespace asked for does not exist.',
  OverlayWorkload: "An --overlay file holds a workload: its pods replace the cluster's.",
  ServicesUnreadable: 'The account cannot list Services: Services named on the command line cannot be resolved.',
  IncompleteSnapshot: 'The API server holds objects netpol cannot decode: nothing is analysed while they are there.',
  // The agent's input (fail closed)
  KeptLastGood: 'A file that does not parse or cannot be read: its last good content is enforced.',
  KeptLastValid: 'A policy that became invalid: its last valid version is enforced.',
  SkippedInvalid: 'Invalid objects left out (agent: a policy never valid; --skip-invalid: the objects named).',
  HeldEmpty: 'A directory that became empty: its last content is kept until it stays empty.',
  // The lab's plan (netpol lab)
  LabNodeCount: 'The number of lab nodes is out of range.',
  LabTooManyPods: 'More pods than a lab holds.',
  LabBadPodIP: 'A pod address the lab cannot use.',
  LabDuplicatePodIP: 'Two pods with one address: a lab cannot route both.',
  LabExtraPodIP: 'A pod with more than one address of a family: the lab uses the first.',
  LabNoAddressSpace: 'No lab addresses left for pods without one.',
  LabIPInIPBlock: 'Lab addresses fall inside ipBlocks: the kernel matches them where the engine (no address) does not.',
  LabNoCommonFamily: 'Some pods are IPv4-only and some IPv6-only: such pairs cannot connect in the lab.',
  LabHostNetworkPod: 'A host-network pod gets a network namespace of its own in the lab.',
  // The editor of `netpol serve`
  UnknownDocument: 'An edit names a document that is not loaded.',
  IgnoredObject: 'An edit holds an object the editor does not change (it is ignored).',
} as const satisfies Record<string, string>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export function isDiagnosticCode(code: string): code is DiagnosticCode {
  return Object.hasOwn(DIAGNOSTIC_CODES, code);
}

/** The table as Markdown (docs/diagnostics.md). */
export function diagnosticCodesMarkdown(): string {
  const rows = Object.entries(DIAGNOSTIC_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
  return [
    '# Diagnostic codes',
    '',
    'Every diagnostic carries one of these codes (`-o json`: `"code"`). Generated from src/diag/codes.ts',
    '(`npm run docs:codes`); a test keeps this page equal to it.',
    '',
    '| code | meaning |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n');
}

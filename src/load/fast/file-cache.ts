/** What each file decoded to, kept between loads of the same files (the node agent re-reads them after each edit). */
import type { ClusterPolicyInfo, NamespaceInfo, PodInfo, PolicyInfo, ServiceInfo } from '../../model/index.js';

/** One decoded object of a file, as the decoder adds it to the cluster. */
export type DecodedEntry =
  | { readonly kind: 'Namespace'; readonly namespace: ''; readonly name: string; readonly value: NamespaceInfo }
  | { readonly kind: 'Pod'; readonly namespace: string; readonly name: string; readonly value: PodInfo }
  | { readonly kind: 'NetworkPolicy'; readonly namespace: string; readonly name: string; readonly value: PolicyInfo }
  | { readonly kind: 'ClusterPolicy'; readonly namespace: ''; readonly name: string; readonly value: ClusterPolicyInfo }
  | { readonly kind: 'Service'; readonly namespace: string; readonly name: string; readonly value: ServiceInfo };

/** See `FastLoadOptions.cache` (load.ts). */
export class FastLoadCache {
  /** File name -> its text and what it decoded to. */
  readonly files = new Map<string, { readonly text: string; readonly entries: readonly DecodedEntry[] }>();
}

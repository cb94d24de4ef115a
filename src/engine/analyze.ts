/**
 * The pipeline as a library call: validate a loaded cluster's policies the way the API server would, and
 * build an engine only from a cluster that passed. Analysis of invalid policies would be guessing at what
 * the API server would never have stored.
 */
import { hasErrors, type Diagnostic } from '../diag/index.js';
import type { Cluster } from '../model/index.js';
import { validateCluster } from '../validate/index.js';
import { Engine } from './engine.js';

/** An engine for the cluster, or the diagnostics that stop one from being built. */
export function analyze(cluster: Cluster): { engine: Engine; diagnostics: Diagnostic[] } | { engine?: undefined; diagnostics: Diagnostic[] } {
  const diagnostics = validateCluster(cluster);
  if (hasErrors(diagnostics)) return { diagnostics };
  return { engine: new Engine(cluster), diagnostics };
}

/** Reachability changes, one cluster change at a time (for `netpol watch`). Pure. */
export { ReachabilityTracker, type ObjectChange, type PodPair, type ProbeChange, type ReachabilityChange, type TrackerOptions } from './tracker.js';

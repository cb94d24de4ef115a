/**
 * A real control plane (etcd + kube-apiserver, built from Go modules by scripts/control-plane/build.sh)
 * for the lab and for every test that talks to Kubernetes.
 */
export { startControlPlane, controlPlaneDir, kubectlPath, controlPlaneUnavailable, K8S_VERSION, ETCD_VERSION, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';

#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, etcd, and a kubectl of the same release) from Go
# modules, once per version, into a cache outside the clone. Go is test infrastructure only:
# netpol itself needs no Go at run time.
#
#   scripts/control-plane/build.sh        prints the directory holding kube-apiserver, etcd and kubectl
#
# The cache: ${NETPOL_CACHE:-$HOME/.cache/netpol}/control-plane/k8s-<v>-etcd-<v>/. A finished build
# is marked by a file named `complete`; anything else there is rebuilt.
set -euo pipefail

K8S_VERSION="${NETPOL_K8S_VERSION:-v1.35.4}"
ETCD_VERSION="${NETPOL_ETCD_VERSION:-v3.6.16}"
CACHE="${NETPOL_CACHE:-$HOME/.cache/netpol}/control-plane/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"

if [[ -f "$CACHE/complete" && -x "$CACHE/kubectl" ]]; then
  echo "$CACHE"
  exit 0
fi
command -v go >/dev/null || { echo "control-plane: go is not installed" >&2; exit 2; }

mkdir -p "$CACHE"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

# kube-apiserver: k8s.io/kubernetes refers to its staging modules (k8s.io/api, k8s.io/client-go, ...)
# by ./staging paths, which a module download does not have; each is pinned here to the published
# module of the same release (v1.35.4 -> v0.35.4).
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
mkdir -p "$WORK/apiserver"
(
  cd "$WORK/apiserver"
  go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" >download.json
  GOMOD="$(sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p' download.json)"
  {
    echo "module netpol.test/control-plane"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes ${K8S_VERSION}"
    echo
    echo "replace ("
    sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"${STAGING_VERSION}"'#p' "$GOMOD"
    echo ")"
  } >go.mod
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n)\n' >tools.go
  go mod tidy >&2
  V="k8s.io/component-base/version"
  MINOR="${K8S_VERSION#v1.}"; MINOR="${MINOR%%.*}"
  go build -trimpath -o "$CACHE/kube-apiserver" \
    -ldflags "-s -w -X $V.gitVersion=${K8S_VERSION} -X $V.gitMajor=1 -X $V.gitMinor=${MINOR} -X $V.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver >&2
  go build -trimpath -o "$CACHE/kubectl" \
    -ldflags "-s -w -X $V.gitVersion=${K8S_VERSION} -X $V.gitMajor=1 -X $V.gitMinor=${MINOR} -X $V.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kubectl >&2
)

# etcd: the server module's root package is the etcd binary.
mkdir -p "$WORK/etcd"
(
  cd "$WORK/etcd"
  printf 'module netpol.test/etcd\n\ngo 1.25\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >tools.go
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$CACHE/etcd" go.etcd.io/etcd/server/v3 >&2
)

"$CACHE/kube-apiserver" --version >&2
"$CACHE/etcd" --version >&2
"$CACHE/kubectl" version --client >&2
touch "$CACHE/complete"
echo "$CACHE"

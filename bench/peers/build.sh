#!/usr/bin/env bash
# Builds bench/serve-peers.ts's go-control-plane ADS server (go-control-plane/, versions pinned in
# its go.mod and go.sum) once per machine: the binary is cached under $SMI_PEERS_CACHE (default
# ~/.cache/smi-compile/peers/<key>), keyed by the sources, the pinned modules and the Go version,
# so a second run costs nothing. About 1.5 minutes on 2 cores the first time (the Go module proxy
# must be reachable then). Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/go-control-plane"
key="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)-$(go env GOVERSION)"
dir="${SMI_PEERS_CACHE:-$HOME/.cache/smi-compile/peers}/$key"
if [ -x "$dir/gcp-ads" ]; then echo "$dir/gcp-ads"; exit 0; fi
mkdir -p "$dir"
tmp="$dir/.gcp-ads.tmp-$$"
(cd "$src" && GOFLAGS=-mod=readonly nice -n 10 go build -trimpath -o "$tmp" .) >&2
mv -f "$tmp" "$dir/gcp-ads"
echo "$dir/gcp-ads"

#!/usr/bin/env bash
# Installs what building and running need (no test packages), builds the Release binary and runs the gateway on
# the embedded default config (config/gateway.yaml as built: API on 127.0.0.1:8080, admin on 127.0.0.1:9901).
# Extra arguments go to `tollway gateway` (e.g. --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --run
cmake --preset release -DBUILD_TESTING=OFF -DTOLLWAY_BENCH=OFF >/dev/null
cmake --build --preset release --target tollway
exec build/release/tollway gateway "$@"

#!/usr/bin/env bash
# Installs what is missing, builds the Release binary and runs the gateway on the embedded default config
# (config/gateway.yaml: API on 127.0.0.1:8080, admin on 127.0.0.1:9901). Extra arguments go to `tollway gateway`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target tollway
exec build/release/tollway gateway --config config/gateway.yaml "$@"

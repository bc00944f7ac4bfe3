#!/usr/bin/env bash
# Installs what tollway needs to build and test on Debian 12, skipping what is already there:
# the Debian packages named in DESIGN.md (apt-get update runs once, only if something is missing) and the
# npm packages pinned in package-lock.json (npm ci, only when node_modules is missing or stale).
# With --bench it also installs what the macro benchmarks run (bench/proxy: wrk, nginx as the reference, valgrind
# and perf for the per-request counts); tests and CI do not need them.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build pkg-config git ca-certificates openssl
  libboost1.81-dev libssl-dev libsimdjson-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libhiredis-dev libsqlite3-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev
  prometheus redis-server
)
if [[ "${1:-}" == "--bench" ]]; then packages+=(wrk nginx valgrind linux-perf); fi
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci on a fresh clone or when the lockfile changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

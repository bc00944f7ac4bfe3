#!/usr/bin/env bash
# Installs what tollway needs on Debian 12, skipping what is already there (apt-get update runs once, only if
# something is missing):
#   --run    what building and running need: the compiler (and ccache, which the build uses when present), the
#            libraries named in DESIGN.md, and the npm `dependencies` (gpt-tokenizer, whose rank files the build
#            embeds). scripts/run.sh uses it.
#   --test   (the default) also what the tests need: GoogleTest, Google Benchmark, clang-14 for the fuzz targets,
#            prometheus (promtool), redis-server, etcd-server (etcd 3.4, the control plane's etcd store), chromium (the
#            dashboard's browser test), nginx (fuzz_http_framing_nginx's reference reader), and the npm
#            `devDependencies` (official SDKs, tiktoken, playwright-core).
#   --bench  also what the macro benchmarks run (bench/proxy: wrk, valgrind and perf; nginx, the reference, is in --test;
#            bench/spend: the sqlite3 shell as the reference, GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:---test}"
case "$mode" in --run | --test | --bench) ;; *) echo "usage: $0 [--run | --test | --bench]" >&2; exit 2 ;; esac

packages=(
  g++ cmake ninja-build ccache pkg-config git ca-certificates
  libboost1.81-dev libssl-dev libsimdjson-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libhiredis-dev libsqlite3-dev zlib1g-dev
)
if [[ "$mode" != --run ]]; then
  packages+=(openssl libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev prometheus redis-server
             etcd-server systemd chromium nginx)
fi
if [[ "$mode" == --bench ]]; then packages+=(wrk valgrind linux-perf sqlite3 time); fi
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

# npm ci on a fresh clone, when the lockfile changed since the last install, or when the tests need the
# devDependencies that a --run install left out.
stale=0
[[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]] && stale=1
if [[ "$mode" == --run ]]; then
  if ((stale)); then
    echo "install-deps: npm ci --omit=dev"
    npm ci --omit=dev --no-audit --no-fund --loglevel=error
  fi
elif ((stale)) || [[ ! -d node_modules/tiktoken ]]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

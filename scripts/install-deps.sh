#!/usr/bin/env bash
# Installs the system packages RiskLoop builds against, when they are missing:
# libblas-dev (the CBLAS interface it links), libopenblas0-pthread (the fastest BLAS Debian offers;
# it takes over libblas.so.3 through Debian's alternatives, and RiskLoop runs it one thread per
# RiskLoop thread), libsqlite3-dev (SQLite for GRDB), and any package named as an argument. Uses apt-get directly as
# root, sudo otherwise.
set -euo pipefail

# Extra packages can be named as arguments (make bench adds wrk).
packages=(libblas-dev libopenblas0-pthread libsqlite3-dev "$@")
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ! command -v swift >/dev/null 2>&1; then
    echo "error: no 'swift' on PATH; RiskLoop needs a Swift 6.1 or newer toolchain." >&2
    exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
    echo "error: missing ${missing[*]}; install them with apt-get (as root)." >&2
    exit 1
fi

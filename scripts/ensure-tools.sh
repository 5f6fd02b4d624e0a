#!/usr/bin/env bash
# Installs what building Shipgate needs and is missing; installs nothing twice.
# Usage: ensure-tools.sh [--browser]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
say() { echo "tools: $*" >&2; }
want_browser=false; [[ "${1:-}" == "--browser" ]] && want_browser=true

apt_install() {
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    say "installing $* with apt-get"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; then
      apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
    fi
  else
    say "missing: $*. Install with:   sudo apt-get install -y $*"; exit 1
  fi
}

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

leptos_version=0.3.10
if [[ "$(cargo leptos --version 2>/dev/null)" != *"$leptos_version"* ]]; then
  say "installing cargo-leptos $leptos_version (takes about 10 minutes once)"
  cargo install cargo-leptos --version "$leptos_version" --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly. Its own lock file
# names a crate the registry lacks, so it is installed without --locked.
wb_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")"
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb_version"* ]]; then
  say "installing wasm-bindgen-cli $wb_version (takes a few minutes once)"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

command -v npm >/dev/null || apt_install nodejs npm
# wasm-opt (npm's binaryen) and Playwright live in end2end/node_modules.
stamp="$root/end2end/node_modules/.installed"
if [[ ! -f "$stamp" || "$root/end2end/package-lock.json" -nt "$stamp" ]]; then
  say "installing end2end/ npm packages"
  (cd "$root/end2end" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
fi

if $want_browser && [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium
fi
exit 0

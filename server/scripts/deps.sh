#!/usr/bin/env bash
# Installs the Debian packages Cabinet needs to build, run and test, if any
# are missing. Idempotent and quiet when nothing is missing.
set -euo pipefail

build=(gcc make pkg-config libcivetweb-dev libjansson-dev libsodium-dev
       libpq-dev libcurl4-openssl-dev)
# libssl-dev for CABINET_TLS_CERT: Debian's libcivetweb loads libssl.so and
# libcrypto.so (the unversioned names, which only the -dev package provides)
# when serve is asked for HTTPS.
runtime=(postgresql-15 postgresql-client-15 curl libssl-dev)
# clang-format and clang-tidy are pinned to Debian 12's 14 (tests/static.sh).
# nginx (and openssl, for its test certificate): tests/api/test_proxy.py runs
# Cabinet behind docker/nginx.conf. python3-yaml and jq (and openssl):
# tests/api/test_ci_snippets.py runs README's CI jobs. chromium and a font:
# the browser tests (tests/browser, run by tests/api/test_browser.py) drive
# Debian's Chromium through playwright-core, which downloads no browser.
# sqlmap and slowhttptest: the security tests (tests/security).
# python3-jsonschema: tests/api/test_openapi.py checks answers against
# web/openapi.json.
testing=(clang libclang-rt-14-dev clang-format-14 clang-tidy-14 python3 python3-pytest
         python3-requests python3-nacl python3-icalendar python3-yaml jq nginx openssl
         chromium fonts-dejavu-core sqlmap slowhttptest python3-jsonschema)

want=("${build[@]}" "${runtime[@]}")
if [ "${1:-}" = "--test" ]; then
    want+=("${testing[@]}")
    # Node.js and npm for the browser tests, from Debian unless a node is
    # already installed (e.g. NodeSource's, which carries its own npm and
    # conflicts with Debian's npm package). package.json wants Node >= 20.
    command -v node >/dev/null || want+=(nodejs)
    command -v npm >/dev/null || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

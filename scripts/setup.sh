#!/usr/bin/env bash
# One-time set-up of a fresh Debian machine for Backtest Notebook (idempotent; re-running is
# quick): Debian packages (as root, when missing), `npm ci` (brings Node 24 for every npm
# script), and code-server 4.139.1 into ${BTNB_TOOLS_DIR:-~/.cache/btnb-tools} for `npm start`
# and the extension-host tests. .ci/run calls this too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
LOG_DIR="${BTNB_SETUP_LOG_DIR:-$(mktemp -d /tmp/btnb-setup.XXXXXX)}"

quiet() { # quiet NAME CMD...: output to a log, shown only when CMD fails
  local log="$LOG_DIR/$1.log"; shift
  if ! "$@" >"$log" 2>&1; then
    echo "[setup] FAILED: $* — last lines of $log:" >&2
    tail -n 60 "$log" >&2
    return 1
  fi
}

# chromium: the browser of the integration/e2e tests; libkrb5-dev + build tools: code-server's
# native addons compile; zstd: benchmarks and tests compare against it; fonts for screenshots;
# redis-server: the distributed sweeps' tests start their own (BullMQ).
PACKAGES=(ca-certificates git chromium libkrb5-dev zstd build-essential python3 fonts-dejavu-core redis-server)
missing=()
for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "[setup] missing Debian packages: ${missing[*]} — run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "[setup] apt-get install ${missing[*]}"
  quiet apt-update apt-get update -q
  quiet apt-install apt-get install -y -q "${missing[@]}"
fi

echo "[setup] npm ci"
quiet npm-ci npm ci --no-audit --no-fund
v="$(node_modules/.bin/node -p process.versions.node)"
[[ "${v%%.*}" == "24" ]] || { echo "[setup] node_modules/.bin/node is $v, expected 24.x" >&2; exit 1; }

echo "[setup] code-server"
bash scripts/install-code-server.sh >/dev/null
echo "[setup] done (Node $v)"

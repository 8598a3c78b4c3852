#!/bin/sh
# Installs what the VS Code end-to-end test (editors/editors_test.go TestVSCodeE2E) needs, from
# Debian's packages and the npm registry only: no GitHub release, no browser download.
#
#   - Debian: chromium (driven headless by puppeteer-core), ripgrep (VS Code's search), and the
#     toolchain and headers code-server's native modules build against.
#   - code-server (VS Code in the browser), installed from npm without its install scripts (they
#     download prebuilt binaries), its native modules then built with node-gyp against the
#     machine's Node headers (npm_config_nodedir=/usr: nothing is downloaded).
#
# code-server goes to a cache outside the repository, keyed by version, and steps already done
# are skipped, so a second run takes seconds:
#
#   ${NONROOT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nonroot-ls-e2e}/code-server-<version>
#
# The test finds it there (or through NONROOT_CODE_SERVER, or code-server on PATH). On success
# the last line printed is the path of the code-server executable.
set -eu

CODE_SERVER_VERSION=4.100.3 # the newest release whose engine accepts Node 20
CACHE=${NONROOT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nonroot-ls-e2e}
PREFIX=$CACHE/code-server-$CODE_SERVER_VERSION
CS=$PREFIX/node_modules/code-server
VSC=$CS/lib/vscode

log() { printf '%s install.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# done_or STEP: true when STEP already finished in an earlier run.
done_or() { [ -e "$PREFIX/.done-$1" ]; }
mark() { touch "$PREFIX/.done-$1"; }

# 1. Debian packages.
need_pkgs=""
for p in build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep chromium; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs="$need_pkgs $p"
done
if [ -n "$need_pkgs" ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages:$need_pkgs (run this script as root, or apt-get install them)"
    exit 1
  fi
  log "apt-get install$need_pkgs"
  apt-get update >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need_pkgs >/dev/null
fi
command -v node >/dev/null || { log "node is not installed"; exit 1; }
node -e 'process.exit(+process.versions.node.split(".")[0] === 20 ? 0 : 1)' ||
  log "warning: code-server $CODE_SERVER_VERSION expects Node 20, this is $(node --version)"

# npm's own node-gyp (no global install needed); headers from the machine's Node.
NODE_GYP=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[ -f "$NODE_GYP" ] || { log "node-gyp not found next to npm ($NODE_GYP)"; exit 1; }
if [ -f /usr/include/node/node.h ]; then
  npm_config_nodedir=/usr
else
  npm_config_nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
fi
[ -f "$npm_config_nodedir/include/node/node.h" ] || { log "no Node headers under $npm_config_nodedir/include/node"; exit 1; }
export npm_config_nodedir
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

mkdir -p "$PREFIX"

# 2. code-server itself, without install scripts (its postinstall fetches and builds things).
if ! done_or code-server; then
  log "npm install code-server@$CODE_SERVER_VERSION into $PREFIX"
  [ -f "$PREFIX/package.json" ] || printf '{"private":true}\n' >"$PREFIX/package.json"
  (cd "$PREFIX" && npm install --ignore-scripts --no-save "code-server@$CODE_SERVER_VERSION" >/dev/null)
  mark code-server
fi

# 3. VS Code's own runtime dependencies.
if ! done_or vscode-deps; then
  log "npm install in lib/vscode"
  (cd "$VSC" && npm install --omit=dev --ignore-scripts >/dev/null)
  mark vscode-deps
fi

# 4. Native modules, built against the machine's Node.
if ! done_or native; then
  find "$VSC/node_modules" -name binding.gyp -not -path '*/test/*' -not -path '*/deps/*' | sort | while read -r gyp; do
    dir=$(dirname "$gyp")
    # Only a package's own binding.gyp (not one vendored deeper inside another package's source).
    [ -f "$dir/package.json" ] || continue
    log "node-gyp rebuild ${dir#"$VSC"/}"
    (cd "$dir" && node "$NODE_GYP" rebuild >/dev/null 2>"$PREFIX/node-gyp.log") || {
      cat "$PREFIX/node-gyp.log" >&2
      log "node-gyp rebuild failed in $dir"
      exit 1
    }
  done
  mark native
fi

# 5. @vscode/ripgrep: Debian's rg instead of the binary its postinstall downloads.
if ! done_or ripgrep; then
  rg=$(command -v rg)
  for d in "$VSC"/node_modules/@vscode/ripgrep; do
    mkdir -p "$d/bin" && ln -sf "$rg" "$d/bin/rg"
  done
  mark ripgrep
fi

# 6. argon2 (code-server's password hashing; npm hoists it to the top), built from source the
# same way: node-pre-gyp is told not to look for a prebuilt binary.
if ! done_or argon2; then
  log "npm rebuild argon2"
  (cd "$PREFIX" && npm_config_build_from_source=true npm rebuild argon2 >"$PREFIX/argon2.log" 2>&1) || { cat "$PREFIX/argon2.log" >&2; exit 1; }
  ls "$PREFIX"/node_modules/argon2/lib/binding/napi-v*/argon2.node >/dev/null 2>&1 || { cat "$PREFIX/argon2.log" >&2; log "argon2 was not built"; exit 1; }
  mark argon2
fi

# 7. The packaged build loads its modules from node_modules.asar, which an npm install lacks.
if [ ! -e "$VSC/node_modules.asar" ]; then
  ln -s node_modules "$VSC/node_modules.asar"
fi

# 8. The built-in extensions' runtime dependencies.
if ! done_or extensions; then
  log "npm install in lib/vscode/extensions"
  (cd "$VSC/extensions" && npm install --omit=dev --ignore-scripts >/dev/null)
  mark extensions
fi

mkdir -p "$CACHE/bin"
ln -sf "$CS/out/node/entry.js" "$CACHE/bin/code-server"
chmod +x "$CS/out/node/entry.js"
# code-server writes a default config and logs under $HOME: keep those in the cache.
HOME="$PREFIX/home" XDG_CONFIG_HOME="$PREFIX/home/.config" XDG_DATA_HOME="$PREFIX/home/.local/share" \
  "$CACHE/bin/code-server" --version >&2
echo "$CACHE/bin/code-server"

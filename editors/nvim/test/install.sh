#!/bin/sh
# Installs a Neovim >= 0.11 for TestNeovimLSPConfig (editors/editors_test.go), which runs
# lsp/nonroot_ls.lua through vim.lsp.config + vim.lsp.enable, from Debian's packages only.
#
# Debian 12 ships Neovim 0.7.2 and Debian 13 0.10.4; only unstable (sid) has 0.11 or later,
# and its build needs a newer libc6 than Debian 12 can install. So nothing is installed on the
# system: the packages (neovim, its runtime, its libraries and sid's libc6: the dependency
# closure apt computes) are fetched with `apt-get download` through a private apt
# configuration (its own sources list, on the mirror the system's sources name, and its own
# index and cache directories; the system's sources, index and packages are left as they
# are), unpacked with dpkg-deb -x into a cache, and bin/nvim-sid runs sid's nvim with sid's
# dynamic loader and libraries:
#
#   ${NONROOT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nonroot-ls-e2e}/bin/nvim-sid
#
# A second run reuses the unpacked version when sid still has it. On success the last line
# printed is the wrapper's path.
set -eu

CACHE=${NONROOT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nonroot-ls-e2e}
APT=$CACHE/apt-sid
log() { printf '%s nvim install.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The Debian mirror the system uses (deb822 sources or the one-line format), suite sid.
mirror=$(
  { grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'; } |
    grep -v -- '-security' | head -n 1
)
[ -n "$mirror" ] || { log "no Debian mirror in /etc/apt/sources.list*"; exit 1; }
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$CACHE/bin"
echo "deb $mirror sid main" >"$APT/sources.list"
set -- -o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null \
  -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT" -o Dir::Cache::Archives="$APT/archives" \
  -o Dir::State::Status=/dev/null -o Debug::NoLocking=1
log "apt-get update (sid, private index in $APT)"
apt-get "$@" -o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false \
  -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false \
  -o Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false update >/dev/null

version=$(apt-cache "$@" show neovim | awk '/^Version:/{print $2; exit}')
[ -n "$version" ] || { log "sid has no neovim"; exit 1; }
case "$version" in
  0.[0-9].* | 0.10.*) log "sid's neovim is $version, older than 0.11"; exit 1 ;;
esac
ROOT=$CACHE/neovim-$version
if [ ! -e "$ROOT/.done" ]; then
  pkgs=$(apt-cache "$@" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances neovim | grep -v '^[ <]' | sort -u)
  log "apt-get download neovim $version and its closure:" $pkgs
  rm -rf "$ROOT" "$APT/debs"
  mkdir -p "$APT/debs"
  # shellcheck disable=SC2086
  (cd "$APT/debs" && apt-get "$@" download $pkgs >/dev/null)
  for deb in "$APT/debs"/*.deb; do
    dpkg-deb -x "$deb" "$ROOT"
  done
  rm -rf "$APT/debs"
  touch "$ROOT/.done"
fi

ld=$(ls "$ROOT"/usr/lib/*/ld-linux*.so.* 2>/dev/null | head -n 1)
[ -n "$ld" ] || { log "no dynamic loader in $ROOT"; exit 1; }
libdir=$(dirname "$ld")
cat >"$CACHE/bin/nvim-sid" <<EOF
#!/bin/sh
# Debian sid's Neovim $version, unpacked by editors/nvim/test/install.sh, run with sid's libc.
VIMRUNTIME=$ROOT/usr/share/nvim/runtime
export VIMRUNTIME
exec "$ld" --library-path "$libdir" "$ROOT/usr/bin/nvim" "\$@"
EOF
chmod +x "$CACHE/bin/nvim-sid"
# (Neovim creates its log under $XDG_STATE_HOME even for --version: keep it in the cache.)
XDG_STATE_HOME="$ROOT/state" "$CACHE/bin/nvim-sid" --version | head -n 1 >&2
echo "$CACHE/bin/nvim-sid"

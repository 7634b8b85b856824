#!/usr/bin/env bash
# Builds the two Debian packages, checks them (lintian, desktop-file-validate, appstreamcli),
# installs them on this machine with apt, and there, as a normal user (pautest, created if
# missing): paudm db start, a small simulated night through paudm night, the console's
# Operations screenshot; then removes paudm-console and runs a runner from the runner-only
# package against that database; then removes paudm and checks that none of its files is
# left. Run as root on a Debian 12 machine you may install software on:
#   packaging/install-deps.sh --package && packaging/test-package.sh [BUILD_DIR]
#       configures BUILD_DIR (default build/package) as a release build for /usr and builds it
#   packaging/test-package.sh --reuse BUILD_DIR
#       packages a tree that is built already (the test suite's own, test_package), placed
#       under /usr; its binaries are what that tree was built as (debug, for the suite)
# Exits 77 (skipped) when it may not run here: not root, the packaging tools missing, or
# PAUdm installed on this machine already (it is not replaced).
set -euo pipefail
cd "$(dirname "$0")/.."
reuse=0
if [ "${1:-}" = "--reuse" ]; then reuse=1; shift; fi
build=${1:-build/package}
skip() { echo "test-package: skipped: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "run as root (it installs and removes the packages)"
for tool in cpack lintian help2man desktop-file-validate appstreamcli dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || skip "$tool is missing (packaging/install-deps.sh --package)"
done
for pkg in paudm paudm-console; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    skip "$pkg is installed on this machine; remove it first (this test installs and removes its own)"
  fi
done
if [ "$reuse" -eq 0 ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DPAUDM_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build"
  prefix=()
else
  [ -f "$build/CPackConfig.cmake" ] || { echo "test-package: $build is not a configured build tree" >&2; exit 2; }
  grep -q 'help2man' "$build/CMakeCache.txt" && grep -q '^HELP2MAN:FILEPATH=/' "$build/CMakeCache.txt" ||
    skip "$build was configured without help2man (no man pages): configure it again"
  grep -q '^PAUDM_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && skip "$build is a sanitizer build: not packaged"
  prefix=(-D CPACK_PACKAGING_INSTALL_PREFIX=/usr)
fi
out=$(mktemp -d)
# Whatever happens, this machine is left as it was: the packages removed, the server stopped.
installed=0
cleanup() {
  if [ "$installed" -eq 1 ]; then
    su pautest -s /bin/bash -c "cd ~ && paudm db stop" >/dev/null 2>&1 || true
    apt-get remove -y paudm-console paudm >/dev/null 2>&1 || true
  fi
  # dpkg keeps a removed package's record (state "rc") until it is purged.
  dpkg --purge paudm-console paudm >/dev/null 2>&1 || true
  rm -rf "$out"
}
trap cleanup EXIT
(cd "$build" && cpack -G DEB -B "$out" "${prefix[@]}" >/dev/null)
runner_deb=$(ls "$out"/paudm_*_amd64.deb) console_deb=$(ls "$out"/paudm-console_*_amd64.deb)
echo "== lintian"
if lintian "$runner_deb" "$console_deb" | grep '^E:'; then echo "lintian reports errors" >&2; exit 1; fi
echo "== desktop entry and metainfo"
desktop-file-validate packaging/desktop/org.pausurvey.PAUdmConsole.desktop
appstreamcli validate --no-net "$build/packaging/org.pausurvey.PAUdmConsole.metainfo.xml"
echo "== the runner package needs no GUI library"
if dpkg-deb -f "$runner_deb" Depends | grep -Eq 'libqt6(gui|widgets|charts)'; then echo "paudm depends on Qt GUI" >&2; exit 1; fi
echo "== install"
installed=1
apt-get install -y "$runner_deb" "$console_deb" >/dev/null
[ "$(command -v paudm)" = /usr/bin/paudm ] && [ "$(command -v paudm-console)" = /usr/bin/paudm-console ]
id pautest >/dev/null 2>&1 || useradd -m pautest
user_home=$(getent passwd pautest | cut -d: -f6)
as_user() { su pautest -s /bin/bash -c "cd ~ && unset PAUDM_HOME PAUDM_DB DISPLAY && $1"; }
as_user "rm -rf ~/.local/share/paudm ~/pkgtest && mkdir ~/pkgtest"
as_user "paudm db start"
# The server runs a copy of the guard module the package installed (stripped), not of one
# in a build tree on this machine.
guard=$(as_user "paudm db status" | sed -n 's/^ *guard: *//p')
packaged_guard=$(dpkg -L paudm | grep '/paudm_guard\.so$')
cmp -s "$guard" "$packaged_guard" || { echo "the server loads '$guard', not a copy of $packaged_guard" >&2; exit 1; }
as_user "paudm simulate --out ~/pkgtest/buffer --night 2026-11-30 --geometry small --bias 1 --flats-per-tray 1 --trays NB455 --science 2 >/dev/null"
as_user "paudm night --buffer ~/pkgtest/buffer --archive ~/pkgtest/archive | tail -1"
as_user "paudm-console --panel operations --screenshot ~/pkgtest/operations.png"
[ -s "$user_home/pkgtest/operations.png" ]
echo "== the runner package alone"
apt-get remove -y paudm-console >/dev/null
as_user "paudm jobs create fanout --set n=5 --set task=noop --submit >/dev/null && paudm runner --until-idle"
as_user "paudm db stop"
echo "== removal"
files=$(dpkg -L paudm | while read -r f; do [ -f "$f" ] && echo "$f"; done)
apt-get remove -y paudm >/dev/null
installed=0
left=0
for f in $files; do [ -e "$f" ] && { echo "left behind: $f" >&2; left=1; }; done
[ "$left" -eq 0 ]
echo "test-package: all steps passed; the user's data stays in $user_home/.local/share/paudm and ~/pkgtest"

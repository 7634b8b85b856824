#!/usr/bin/env bash
# Builds the two Debian packages, checks them (lintian, desktop-file-validate, appstreamcli),
# installs them on this machine with apt, and there, as a normal user (pautest, created if
# missing): paudm db start, a small simulated night through paudm night, the console's
# Operations screenshot; then removes paudm-console and runs a runner from the runner-only
# package against that database; then removes paudm and checks that none of its files is
# left. Run as root on a Debian 12 machine you may install software on:
#   packaging/install-deps.sh --package && packaging/test-package.sh [BUILD_DIR]   (default build/package)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/package}
[ "$(id -u)" -eq 0 ] || { echo "test-package: run as root (it installs and removes the packages)" >&2; exit 2; }
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DPAUDM_BUILD_TESTS=OFF >/dev/null
cmake --build "$build"
(cd "$build" && rm -f ./*.deb && cpack -G DEB >/dev/null)
runner_deb=$(ls "$build"/paudm_*_amd64.deb) console_deb=$(ls "$build"/paudm-console_*_amd64.deb)
echo "== lintian"
if lintian "$runner_deb" "$console_deb" | grep '^E:'; then echo "lintian reports errors" >&2; exit 1; fi
echo "== desktop entry and metainfo"
desktop-file-validate packaging/desktop/org.pausurvey.PAUdmConsole.desktop
appstreamcli validate --no-net "$build/packaging/org.pausurvey.PAUdmConsole.metainfo.xml"
echo "== the runner package needs no GUI library"
if dpkg-deb -f "$runner_deb" Depends | grep -Eq 'libqt6(gui|widgets|charts)'; then echo "paudm depends on Qt GUI" >&2; exit 1; fi
echo "== install"
apt-get install -y "$(realpath "$runner_deb")" "$(realpath "$console_deb")" >/dev/null
id pautest >/dev/null 2>&1 || useradd -m pautest
user_home=$(getent passwd pautest | cut -d: -f6)
as_user() { su pautest -s /bin/bash -c "cd ~ && unset PAUDM_HOME PAUDM_DB DISPLAY && $1"; }
trap 'as_user "paudm db stop" >/dev/null 2>&1 || true' EXIT
as_user "rm -rf ~/.local/share/paudm ~/pkgtest && mkdir ~/pkgtest"
as_user "paudm db start"
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
left=0
for f in $files; do [ -e "$f" ] && { echo "left behind: $f" >&2; left=1; }; done
[ "$left" -eq 0 ]
echo "test-package: all steps passed; the user's data stays in $user_home/.local/share/paudm and ~/pkgtest"

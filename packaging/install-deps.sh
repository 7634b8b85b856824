#!/usr/bin/env bash
# Installs the Debian 12 packages that PAUdm console needs to build, test and run.
# Only what is missing is installed. Works as root or through sudo.
#
#   packaging/install-deps.sh            build + runtime + test packages
#   packaging/install-deps.sh --slurm    also Slurm and munge (the Slurm test)
#   packaging/install-deps.sh --bench    also the peers tests/bench measures against
#   packaging/install-deps.sh --package  also what building and checking the .deb needs
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # Qt 6
  qt6-base-dev qt6-charts-dev libqt6charts6 libqt6opengl6-dev libxkbcommon-dev libgl-dev qt6-qpa-plugins
  # astronomy and data libraries
  libcfitsio-dev wcslib-dev libpq-dev libyaml-cpp-dev zlib1g-dev
  # the reduction: SEP (SExtractor's background and extraction as a C library), Eigen
  libsep-dev libeigen3-dev
  # the embedded database server and its client
  postgresql postgresql-client postgresql-server-dev-15
  # FITS validation used by the tests, fonts for offscreen rendering
  fitsverify fonts-dejavu-core
  # rsync: the transfer's external transport and its benchmark peer; python3-astropy: its
  # test FITS files from other instruments, which registering must read or refuse cleanly
  rsync python3-astropy
  # the reduction's independent answers in the tests: ccdproc's combine, astroscrappy's
  # L.A.Cosmic (Debian's python3, not another interpreter on the PATH)
  python3-ccdproc python3-astroscrappy
  # the FITS viewer's DS9 region files, read back by astropy's regions package
  python3-regions
  # the nightly report's html page, opened in a real browser by the tests
  chromium
  # sudo-less privilege drop for the embedded server when run as root
  util-linux
)

for arg in "$@"; do
  case "$arg" in
    --slurm) packages+=(slurm-wlm munge) ;;
    --package) packages+=(help2man lintian desktop-file-utils appstream dpkg-dev) ;;
    --bench) packages+=(python3-photutils python3-sep source-extractor scamp psfex
                        saods9 xvfb xauth time) ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and neither root nor sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the whole PAUdm test suite.
#
#   packaging/test.sh                 debug build (warnings are errors), all tests
#   PRESET=asan packaging/test.sh     the same under AddressSanitizer + UBSan
#   packaging/test.sh -L db           extra arguments go to ctest (here: only "db" tests)
#
# No display is needed: widget tests use Qt's offscreen platform. Database tests start
# their own PostgreSQL through the product's embedded-server code.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${PRESET:-debug}

packaging/install-deps.sh --slurm --package   # the Slurm test starts a single-node cluster;
                                              # test_package builds and installs the .debs
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" -j "$(nproc)" "$@"

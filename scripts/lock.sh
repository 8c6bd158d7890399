#!/usr/bin/env bash
# Writes requirements/lock.txt: exact versions with hashes of every package `make install`
# installs (pyproject's dependencies, the dev extra, and requirements/tools.in), resolved for
# Python 3.11 on every platform. UPGRADE=1 takes the newest versions the bounds allow; without
# it, versions already in the lock are kept where they still fit.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=${UV:-.venv/bin/uv}
args=(pip compile pyproject.toml requirements/tools.in --extra dev --universal
      --python-version 3.11 --generate-hashes --no-header --quiet
      --output-file requirements/lock.txt)
[ "${UPGRADE:-0}" = 1 ] && args+=(--upgrade)
"$uv" "${args[@]}"
echo "wrote requirements/lock.txt ($(grep -c '^[a-z0-9]' requirements/lock.txt) packages)"

#!/usr/bin/env bash
# The example app's CI: installs aana from a built wheel into a fresh virtualenv outside the
# source tree, with the app (not editable), and runs what docs/extending.md tells an app
# author to run: the app's tests on SQLite and PostgreSQL, with and without --test-alembic,
# then `aana migrate` and `aana migrate --check` on a fresh SQLite database.
#
# Usage: examples/video_app/ci.sh path/to/aana_storage-*.whl
# PostgreSQL: AANA_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
set -euo pipefail

wheel="$(realpath "$1")"
app_source="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A copy of the app, so that nothing is built or cached in the source tree.
cp -r "$app_source" "$work/app"
rm -rf "$work/app/build" "$work/app"/*.egg-info
find "$work/app" -name __pycache__ -prune -exec rm -rf {} +

# uv when it is on the PATH (aana's CI), pip otherwise: the result is the same virtualenv.
# pytest-xdist, for the runs below, comes with aana-storage[testing].
if command -v uv >/dev/null; then
  uv venv --quiet --python "${PYTHON:-python3}" "$work/venv"
  uv pip install --quiet --python "$work/venv/bin/python" "$wheel[testing]" "$work/app[test]"
else
  "${PYTHON:-python3}" -m venv "$work/venv"
  "$work/venv/bin/python" -m pip install --quiet "$wheel[testing]" "$work/app[test]"
fi
export PATH="$work/venv/bin:$PATH"
export VIRTUAL_ENV="$work/venv"

cd "$work"
python - <<'PY'
import sys
from pathlib import Path

import aana
import video_app

venv = Path(sys.prefix).resolve()
for module in (aana, video_app):
    location = Path(module.__file__).resolve()
    if venv not in location.parents:
        sys.exit(f"{module.__name__} is imported from {location}, not from the virtualenv")
    print(f"{module.__name__}: {location}")
PY

cd "$work/app"
export AANA_TEST_POSTGRES_URL="${AANA_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
# The commands exactly as docs/extending.md shows them, each on two pytest-xdist workers.
export PYTEST_ADDOPTS="-n 2"
pytest
pytest --aana-db postgresql
pytest --test-alembic
pytest --test-alembic --aana-db postgresql

# The installed app, not the copy: run from outside it.
cd "$work"
export DB_CONFIG="{\"datastore_type\": \"sqlite\", \"datastore_config\": {\"path\": \"$work/ci.db\"}}"
aana migrate video_app.app:aana_app
aana migrate --check video_app.app:aana_app

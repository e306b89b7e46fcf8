#!/usr/bin/env bash
# `aana migrate` must work from a plain install of the built wheel, outside the source tree:
# the migrations ship inside the wheel.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wheel="$(bash "$here/build-wheel.sh" "$work/dist")"
uv venv --quiet --python "$(command -v python)" "$work/venv"
uv pip install --quiet --python "$work/venv/bin/python" "$wheel"
cd "$work"
export DB_CONFIG="{\"datastore_type\": \"sqlite\", \"datastore_config\": {\"path\": \"$work/aana.db\"}}"
first="$("$work/venv/bin/aana" migrate)"
second="$("$work/venv/bin/aana" migrate)"
echo "$first"
echo "$second"
[[ "$first" == "Migrated database from empty database to 0001_initial." ]]
[[ "$second" == "Database already at head (0001_initial); nothing to do." ]]
"$work/venv/bin/python" - <<'PY'
import aana.storage.migrations as migrations
location = migrations.aana_script_location()
assert "site-packages" in str(location), location
print(f"migrations loaded from {location}")
PY

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
head="$("$work/venv/bin/python" -c 'from alembic.script import ScriptDirectory
from aana.storage.migrations import alembic_config
print(ScriptDirectory.from_config(alembic_config()).get_current_head())')"
[[ "$first" == "Migrated database from empty database to $head." ]]
[[ "$second" == "Database already at head ($head); nothing to do." ]]
"$work/venv/bin/python" - <<'PY'
import aana.storage.migrations as migrations
location = migrations.aana_script_location()
assert "site-packages" in str(location), location
print(f"migrations loaded from {location}")
PY

#!/usr/bin/env bash
# The example app's tests against aana installed from a wheel, outside the source tree; then,
# when run as root, its PostgreSQL tests once more as an unprivileged user with no server URL,
# so that the plugin starts its own server with pg_ctl (PostgreSQL refuses to run as root).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="$(mktemp -d)"
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

wheel="$(bash "$here/build-wheel.sh" "$work/dist")"
bash "$root/examples/video_app/ci.sh" "$wheel"

if [[ "$(id -u)" != 0 ]]; then
  exit 0
fi
user=aana-ci
id "$user" >/dev/null 2>&1 || useradd --create-home "$user"
mkdir "$work/user"
cp -r "$root/examples/video_app" "$work/user/app"
chown -R "$user" "$work/user"
chmod -R a+rX "$work/dist"
# The root-owned interpreter this job runs on may sit where the user cannot reach it (tox
# makes .tox mode 0700, and this job's uv lives there): the system Python is reachable by
# everyone, and so is a copy of uv in the work directory.
cp "$(command -v uv)" "$work/uv"
chmod 755 "$work/uv"
uv="$work/uv"
runuser -u "$user" -- env -u AANA_TEST_POSTGRES_URL -u PYTEST_ADDOPTS -u UV_CACHE_DIR HOME="/home/$user" bash -euo pipefail -c "
  '$uv' venv --quiet --python /usr/bin/python3 '$work/user/venv'
  '$uv' pip install --quiet --python '$work/user/venv/bin/python' '$wheel[testing]' '$work/user/app[test]'
  cd '$work/user/app'
  '$work/user/venv/bin/pytest' -p aana.testing -p no:cacheprovider --aana-db postgresql -v
"

#!/usr/bin/env bash
# The postgres-container environment: the suite's in-process tests and the example app's tests
# on PostgreSQL containers the plugin starts, then a check that none is left.
#
# It needs a Docker engine and the image aana-postgres:15, which .ci/postgres-image.sh provides
# (installing and starting the engine needs root). Run by an ordinary user on a machine where no
# engine answers, it says so and runs nothing: nothing else in the matrix needs containers.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "$(id -u)" != 0 ]] && ! docker info >/dev/null 2>&1; then
  echo "postgres-container: SKIPPED: no Docker engine answers, and installing or starting one needs root" >&2
  exit 0
fi
export AANA_TEST_POSTGRES_IMAGE="${AANA_TEST_POSTGRES_IMAGE:-$(bash .ci/postgres-image.sh)}"
# Tests marked `subprocesses` (pytest or aana in child processes) are left to the sqlite and
# postgres environments, and so are the async-half runs of tests that run on both halves
# (`async_half`): the postgres environment runs them on the same PostgreSQL 15.
pytest -n 2 --aana-db postgresql --aana-postgres-source container \
  -m 'not subprocesses and not async_half' "$@"
(cd examples/video_app && pytest -p aana.testing -p no:cacheprovider -n 2 --test-alembic \
  --aana-db postgresql --aana-postgres-source container)
# CI runs alone on its engine: any container labelled by the plugin is one it left.
left="$(docker ps --all --quiet --filter label=aana.testing.run)"
if [[ -n "$left" ]]; then
  echo "containers left: $left" >&2
  exit 1
fi

#!/usr/bin/env bash
# Build aana's wheel into the directory given as $1 and print the wheel's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$1"
uv build --quiet --wheel --out-dir "$out" "$root" >&2
ls "$out"/aana_storage-*.whl

"""The benchmark cases, in the order of the issue."""

from benchmarks.cases import (
    async_half,
    captions,
    claim_growth,
    claims,
    imports,
    isolation,
    migrate,
    pooler,
    prune,
    user_limits,
    videos,
)
from benchmarks.harness import Case

CASES: tuple[Case, ...] = (
    isolation.CASE,
    captions.CASE,
    videos.CASE,
    claims.CASE,
    migrate.CASE,
    imports.CASE,
    async_half.CASE,
    claim_growth.CASE,
    pooler.CASE,
    prune.CASE,
    user_limits.CASE,
)

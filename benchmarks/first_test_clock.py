"""A pytest plugin that writes to ``AANA_BENCH_CLOCK`` when the session and the first test start.

The file gets two wall-clock times, one a line: the session's start (after the interpreter,
imports and plugins are loaded), then the start of the first test's call.
"""

import os
import time

import pytest

_first_test_seen = False


def pytest_sessionstart(session: pytest.Session) -> None:
    with open(os.environ["AANA_BENCH_CLOCK"], "w") as clock:
        clock.write(f"{time.time()!r}\n")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    global _first_test_seen
    if not _first_test_seen:
        _first_test_seen = True
        with open(os.environ["AANA_BENCH_CLOCK"], "a") as clock:
            clock.write(f"{time.time()!r}\n")

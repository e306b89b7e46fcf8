"""Identity of the test run and of this pytest-xdist worker."""

import uuid

import pytest

RUN_ID_KEY = "aana_run_id"
_run_id = pytest.StashKey[str]()


def is_xdist_worker(config: pytest.Config) -> bool:
    """Tell whether this process is a pytest-xdist worker."""
    return hasattr(config, "workerinput")


def run_id(config: pytest.Config) -> str:
    """Return the id shared by every process of this test run.

    The controller makes it up; pytest-xdist hands it to the workers.
    """
    if is_xdist_worker(config):
        return str(config.workerinput[RUN_ID_KEY])  # type: ignore[attr-defined]
    if _run_id not in config.stash:
        config.stash[_run_id] = uuid.uuid4().hex[:10]
    return config.stash[_run_id]


def worker_id(config: pytest.Config) -> str:
    """Return this pytest-xdist worker's id, or ``main``."""
    if is_xdist_worker(config):
        return str(config.workerinput["workerid"])  # type: ignore[attr-defined]
    return "main"

"""Identity of the test run, of this pytest-xdist worker, and of the process owning the run.

What a run leaves on a server (a container, databases) carries its owner, the host and
process id of its controlling pytest process, so that a later run can tell a crashed run's
leftovers from a live run's.
"""

import os
import socket
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


def controller_pid(config: pytest.Config) -> int:
    """Return the process id of the run's controlling pytest process.

    pytest-xdist starts its workers as direct children of that process.
    """
    return os.getppid() if is_xdist_worker(config) else os.getpid()


def owner_label(controller_pid: int) -> str:
    """Return the owner of what the run controlled by a process leaves on a server.

    Args:
        controller_pid (int): The process id of the run's controlling pytest process.

    Returns:
        str: ``<hostname>:<pid>``.
    """
    return f"{socket.gethostname()}:{controller_pid}"


def owner_is_gone(owner: str) -> bool:
    """Tell whether an owner's run is over: its controlling process on this host is gone.

    An owner on another host (a server shared over the network) is never gone here: whether
    its process lives cannot be known from this host. Neither is a malformed one.

    Args:
        owner (str): ``<hostname>:<pid>``, as :func:`owner_label` gives.

    Returns:
        bool: True if what the owner left can be removed.
    """
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False

"""The PostgreSQL container the plugin starts: one per run, removed afterwards, clear errors.

``docker`` is imported here, before pytester snapshots ``sys.modules``: modules first imported
during a pytester test are dropped after it, and requests then fails on its own stale classes.

The tests that need a Docker engine and the image run when the suite itself runs on a
container (``--aana-postgres-source container``, the ``postgres-container`` tox environment).
"""

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from aana.testing.postgres_container import (
    LABEL_OWNER,
    LABEL_RUN,
    docker_engine_answers,
    is_stale,
    remove_stale_containers,
)
from aana.testing.settings import plugin_settings

RECORD_CONTAINER = """
import json
import os

import docker
import pytest
from sqlalchemy import text

from aana.testing.run import run_id, worker_id


@pytest.mark.parametrize("n", range(2))
def test_record(db_engine, pytestconfig, n):
    run = run_id(pytestconfig)
    client = docker.from_env()
    ids = [c.id for c in client.containers.list(filters={"label": f"aana.testing.run={run}"})]
    with db_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    record = {"run": run, "containers": ids, "port": db_engine.url.port}
    with open(f"{worker_id(pytestconfig)}-{n}.json", "w") as file:
        json.dump(record, file)
"""

USES_DB = "def test_db(db_session):\n    pass\n"


@pytest.fixture
def docker_client(pytestconfig: pytest.Config) -> Iterator[docker.DockerClient]:
    if plugin_settings(pytestconfig).postgres_source != "container":
        pytest.skip("runs when the suite runs on a container (--aana-postgres-source container)")
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture
def image(pytestconfig: pytest.Config) -> str:
    return plugin_settings(pytestconfig).postgres_image


def run_plugin(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "aana.testing", "-p", "no:cacheprovider", "--aana-db=postgresql", *args, timeout=300
    )


def our_containers(client: Any, run: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run}"}))


def test_one_container_serves_every_worker_and_none_is_left(
    pytester: pytest.Pytester, docker_client: Any, image: str
) -> None:
    pytester.makepyfile(test_record=RECORD_CONTAINER)
    result = run_plugin(
        pytester,
        "-n",
        "2",
        "--dist",
        "each",
        "--aana-postgres-source=container",
        f"--aana-postgres-image={image}",
    )
    result.assert_outcomes(passed=4)
    records = [json.loads(path.read_text()) for path in pytester.path.glob("gw*.json")]
    assert sorted(path.name for path in pytester.path.glob("gw*.json")) == [
        "gw0-0.json",
        "gw0-1.json",
        "gw1-0.json",
        "gw1-1.json",
    ]
    assert len({record["run"] for record in records}) == 1
    assert len({tuple(record["containers"]) for record in records}) == 1
    assert len(records[0]["containers"]) == 1
    assert len({record["port"] for record in records}) == 1
    assert our_containers(docker_client, records[0]["run"]) == []


def test_stale_containers_are_removed_and_live_ones_kept(docker_client: Any, image: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(finished.stdout)
    host = socket.gethostname()
    owners = {
        "crashed": f"{host}:{dead_pid}",
        "running": f"{host}:{os.getpid()}",
        "elsewhere": f"another-host-{host}:{dead_pid}",
    }
    created = {
        name: docker_client.containers.create(
            image, labels={LABEL_RUN: f"stale-test-{name}", LABEL_OWNER: owner}
        )
        for name, owner in owners.items()
    }
    try:
        removed = remove_stale_containers(docker_client)
        assert created["crashed"].id in removed
        assert created["running"].id not in removed
        assert created["elsewhere"].id not in removed
        assert our_containers(docker_client, "stale-test-crashed") == []
        assert len(our_containers(docker_client, "stale-test-running")) == 1
    finally:
        for name in owners:
            for container in our_containers(docker_client, f"stale-test-{name}"):
                container.remove(force=True)


def test_missing_image_is_named(pytester: pytest.Pytester, docker_client: Any) -> None:
    pytester.makepyfile(test_db=USES_DB)
    result = run_plugin(
        pytester,
        "--aana-postgres-source=container",
        "--aana-postgres-image=aana-test-missing-image:never",
    )
    # Once, before any test, saying what to set instead.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--aana-postgres-image / AANA_TEST_POSTGRES_IMAGE: image "
            "'aana-test-missing-image:never' is not on the Docker engine*cannot be pulled*"
            "name it with AANA_TEST_POSTGRES_IMAGE*AANA_TEST_POSTGRES_URL*"
        ]
    )
    assert "test_db.py" not in result.stdout.str()


def test_a_server_not_ready_in_time_is_reported_and_removed(
    pytester: pytest.Pytester, docker_client: Any, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The entrypoint initialises the cluster, then runs this command instead of the server.
    never_ready = "aana-test-never-ready:1"
    dockerfile = f'FROM {image}\nCMD ["sleep", "infinity"]\n'
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=never_ready, rm=True)
    try:
        monkeypatch.setenv("TC_MAX_TRIES", "3")
        monkeypatch.setenv("TC_POOLING_INTERVAL", "1")
        pytester.makepyfile(test_db=USES_DB)
        result = run_plugin(
            pytester, "--aana-postgres-source=container", f"--aana-postgres-image={never_ready}"
        )
        assert result.ret != pytest.ExitCode.OK
        result.stdout.fnmatch_lines(
            [f"*the PostgreSQL container from image '{never_ready}' was not ready within 3 s*"]
        )
        assert docker_client.containers.list(all=True, filters={"ancestor": never_ready}) == []
    finally:
        docker_client.images.remove(never_ready, force=True)


def test_forced_container_without_an_engine_names_docker_host(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    socket_path = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    pytester.makepyfile(test_db=USES_DB)
    result = run_plugin(pytester, "--aana-postgres-source=container")
    # Once, before any test, not once per test.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--aana-postgres-source / AANA_TEST_POSTGRES_SOURCE / aana_postgres_source is "
            f"container, but no Docker engine answers at unix://{socket_path}*"
        ]
    )
    assert "test_db.py" not in result.stdout.str()


def test_unknown_source_is_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_db=USES_DB)
    result = run_plugin(pytester, "--aana-postgres-source=kubernetes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # A usage error found while pytest is configured goes to stderr.
    result.stderr.fnmatch_lines(
        ["*aana_postgres_source: unknown source 'kubernetes'; expected one of auto, url,*"]
    )


class TestIsStale:
    def test_a_live_process_on_this_host_is_not_stale(self) -> None:
        assert not is_stale({LABEL_OWNER: f"{socket.gethostname()}:{os.getpid()}"})

    def test_a_container_without_an_owner_is_left_alone(self) -> None:
        assert not is_stale({})
        assert not is_stale({LABEL_OWNER: "garbage"})


def test_engine_probe_says_no_for_a_missing_socket(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'none.sock'}")
    assert docker_engine_answers() is False

"""``.ci/postgres-image.sh``: the image is cached by the hash of what it is built from."""

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from aana.testing.settings import plugin_settings

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "postgres-image.sh"
CONTEXT = ROOT / ".ci" / "postgres-image"


@pytest.fixture
def docker_client(pytestconfig: pytest.Config) -> Iterator[docker.DockerClient]:
    if plugin_settings(pytestconfig).postgres_source != "container":
        pytest.skip("runs when the suite runs on a container (--aana-postgres-source container)")
    client = docker.from_env()
    yield client
    client.close()


def test_a_second_run_finds_the_image_by_its_hash(docker_client: docker.DockerClient) -> None:
    first = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=True)
    tag = first.stdout.strip()
    built = docker_client.images.get(tag)

    second = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=True)

    assert second.stdout.strip() == tag
    assert "building" not in second.stderr
    assert docker_client.images.get(tag).id == built.id
    sources = (CONTEXT / "Dockerfile").read_bytes() + (CONTEXT / "entrypoint.sh").read_bytes()
    assert built.labels["aana.image-hash"] == hashlib.sha256(sources).hexdigest()[:16]


def test_the_engine_holds_no_lock_of_the_script(docker_client: docker.DockerClient) -> None:
    """The engine the script starts outlives it: holding the lock, it would block every caller."""
    # Bounded: with the lock held by the engine, this call would wait for good.
    subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=True, timeout=600)
    engines = [
        pid
        for pid in Path("/proc").iterdir()
        if pid.name.isdigit() and _command(pid).startswith(("dockerd", "containerd"))
    ]
    if not engines:
        pytest.skip("no engine process is visible here (it runs elsewhere)")
    lock = "/tmp/aana-postgres-image.lock"
    held = [str(pid) for pid in engines if lock in _open_files(pid)]
    assert held == [], f"processes {held} hold {lock}"


def _command(pid: Path) -> str:
    try:
        return Path((pid / "cmdline").read_bytes().split(b"\0")[0].decode()).name
    except OSError:
        return ""


def _open_files(pid: Path) -> set[str]:
    try:
        return {str((pid / "fd" / fd).readlink()) for fd in (pid / "fd").iterdir()}
    except OSError:
        return set()

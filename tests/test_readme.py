"""The README: its two commands are its only shell blocks, and its python blocks run.

The async blocks run in ``test_async_plugin.py``: the usage example on a committing database,
the test in a nested run of the plugin under pytest-asyncio's strict and auto modes.
"""

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from aana.configs.db import DbSettings

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def fenced() -> list[tuple[str, str]]:
    """Every fenced block of the README: its language and its body."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL)


def python_block(containing: str) -> str:
    (block,) = [body for lang, body in fenced() if lang == "python" and containing in body]
    return block


def test_the_two_commands_are_the_only_shell_blocks() -> None:
    assert [lang for lang, _ in fenced() if lang != "python"] == ["bash", "bash"]
    quickstart, suite = [body.strip() for lang, body in fenced() if lang == "bash"]
    # CI runs the second exactly as the README shows it.
    assert (REPO / ".ci" / "run").read_text().splitlines()[-1] == suite
    db_config = re.search(r"export DB_CONFIG='([^']+)'", quickstart)
    assert db_config and DbSettings.model_validate_json(db_config.group(1))
    assert quickstart.endswith(" && .venv/bin/python examples/quickstart.py")


def test_every_python_block_is_run() -> None:
    """The two below, and the two async ones in ``test_async_plugin.py``."""
    blocks = [body for lang, body in fenced() if lang == "python"]
    run = [
        "with get_session() as session",
        "async def save_video",
        "def test_metadata(db_session)",
        "async def test_metadata(async_db_session)",
    ]
    assert [next(key for key in run if key in block) for block in blocks] == run


def test_the_usage_example_saves_and_reads_a_video(
    transactional_db_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(python_block("with get_session() as session"), {})
    assert capsys.readouterr().out == "title='' description='' duration=None\n"
    with transactional_db_engine.connect() as connection:
        stored = connection.scalar(text("SELECT url FROM video"))
    assert stored == "https://example.com/v.mp4"


def test_the_test_example_passes(db_session: Session) -> None:
    namespace: dict[str, object] = {}
    exec(python_block("def test_metadata(db_session)"), namespace)
    namespace["test_metadata"](db_session)  # type: ignore[operator]

"""The suite's own hooks and fixtures: both halves of a test, and nested pytest runs."""

from collections.abc import Iterator

import pytest
from halves import half, run_test
from plugin_runs import SUITE_SERVER

from aana.testing.backends import PostgresDatabases
from aana.testing.settings import plugin_settings

__all__ = ["half"]

NESTED_RUN_OPTIONS = "-p no:faker -p no:hypothesispytest"
"""Plugins a nested run blocks: installed here, used by no nested run, and slow to load.

Faker's plugin (factory-boy brings Faker) and Hypothesis's import their whole libraries when
pytest starts, which doubles the start-up of every nested run: about 1.4 of its 2.8 CPU-seconds.
``test_pytest_p_loads_the_plugin_once`` runs with every installed plugin, as an app's run does.
"""


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run the async half of a test that runs on both halves (see ``halves``)."""
    return run_test(pyfuncitem)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester, its nested runs (and any child pytest) started without unused plugins.

    pytester clears ``PYTEST_ADDOPTS`` for its runs; setting it afterwards reaches every child
    process the test starts, pytester's own and those run with ``subprocess``, and their xdist
    workers.
    """
    monkeypatch.setenv("PYTEST_ADDOPTS", NESTED_RUN_OPTIONS)
    return pytester


@pytest.fixture(scope="session", autouse=True)
def suite_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remember the PostgreSQL server the plugin started, for nested runs (``plugin_runs``)."""
    config = request.config
    settings = plugin_settings(config)
    if settings.backend == "postgresql" and settings.postgres_url is None:
        databases = request.getfixturevalue("aana_test_databases")
        assert isinstance(databases, PostgresDatabases)
        config.stash[SUITE_SERVER] = databases.admin_url.render_as_string(hide_password=False)
    yield

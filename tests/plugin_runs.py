"""Running pytest with the aana.testing plugin in a pytester project, on the suite's backend."""

import pytest

from aana.testing.options import DB, POSTGRES_URL
from aana.testing.settings import plugin_settings

SUITE_SERVER = pytest.StashKey[str]()
"""The URL of the PostgreSQL server the plugin started for this suite (pg_ctl or container)."""


def suite_server_url(config: pytest.Config) -> str | None:
    """The URL of the PostgreSQL server this suite runs on: given, or started by the plugin.

    Nested runs use it rather than starting servers of their own: faster, and a kept
    template (``--aana-reuse-db``) must outlive one run to be reused.
    """
    settings = plugin_settings(config)
    if settings.backend != "postgresql":
        return None
    if settings.postgres_url is not None:
        return settings.postgres_url.render_as_string(hide_password=False)
    return config.stash.get(SUITE_SERVER, None)


def backend_args(config: pytest.Config) -> list[str]:
    """The options that put a nested run on the backend (and server) this suite runs on."""
    args = [f"{DB.flag}={plugin_settings(config).backend}"]
    url = suite_server_url(config)
    if url:
        args.append(f"{POSTGRES_URL.flag}={url}")
    return args


def run_plugin(pytester: pytest.Pytester, config: pytest.Config, *args: str) -> pytest.RunResult:
    """Run pytest with the plugin in ``pytester``'s project, on the suite's backend."""
    return pytester.runpytest_subprocess(
        "-p", "aana.testing", "-p", "no:cacheprovider", *backend_args(config), *args, timeout=300
    )

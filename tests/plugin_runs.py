"""Running pytest with the aana.testing plugin in a pytester project, on the suite's backend."""

import pytest

from aana.testing.options import DB, POSTGRES_URL, get_backend, get_option


def backend_args(config: pytest.Config) -> list[str]:
    """The options that put a nested run on the backend (and server) this suite runs on."""
    args = [f"{DB.flag}={get_backend(config)}"]
    url = get_option(config, POSTGRES_URL)
    if url and get_backend(config) == "postgresql":
        args.append(f"{POSTGRES_URL.flag}={url}")
    return args


def run_plugin(pytester: pytest.Pytester, config: pytest.Config, *args: str) -> pytest.RunResult:
    """Run pytest with the plugin in ``pytester``'s project, on the suite's backend."""
    return pytester.runpytest_subprocess(
        "-p", "aana.testing", "-p", "no:cacheprovider", *backend_args(config), *args, timeout=300
    )

"""Hooks and fixtures of our own suite."""

import pytest
from halves import half, run_test

__all__ = ["half"]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run the async half of a test that runs on both halves (see ``halves``)."""
    return run_test(pyfuncitem)

"""The app's tests run with ``pytest -p aana.testing``.

pytest-alembic binds its built-in tests (``--test-alembic``) to this file; they check
aana's migrations followed by the app's, as the ``aana_alembic_config`` ini key names them.
"""

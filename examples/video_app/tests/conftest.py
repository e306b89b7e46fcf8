"""video_app's test configuration.

The aana.testing plugin is loaded by ``addopts`` in ``tox.ini``; it collects the migration
checks (``--test-alembic``) itself, wherever the tests live. Fixtures of the app's own go here.
"""

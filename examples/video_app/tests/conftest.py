"""video_app's test configuration.

The aana.testing plugin is loaded by ``addopts`` in ``tox.ini``; pytest-alembic binds its
built-in tests (``--test-alembic``) to this file. Fixtures of the app's own go here.
"""

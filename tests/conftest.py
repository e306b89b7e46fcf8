"""pytest-alembic binds its built-in tests (``--test-alembic``) to this file."""

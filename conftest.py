"""Root conftest: our own suite is the first user of the aana.testing plugin."""

pytest_plugins = ["aana.testing", "pytester"]

"""Aana SDK database layer: settings, entities, repositories, migrations and a pytest toolkit."""

"""Aana SDK database layer: settings, entities, repositories, migrations and a pytest toolkit.

Importing any module of the package runs this one first, which makes it the one place that
sees every layer, and so the place where a lower one is handed what it may not import:
:meth:`aana.configs.DbSettings.get_engine` builds its engine with
:data:`aana.storage.engine.GET_ENGINE_BUILDER`, handed in here (see :mod:`aana.configs.db`).
Every import of the package therefore loads the settings (pydantic and SQLAlchemy's URL),
which every use of a database loads anyway; the engines wait for the first one built.
"""

from aana.configs.db import EngineBuilder, hand_in_engine_builder


def _storage_engine_builder() -> EngineBuilder:
    # Imported when the first engine is built, not here: every import of a module of aana
    # would otherwise import the engines, the sessions and the settings' loader with it.
    from aana.storage.engine import GET_ENGINE_BUILDER

    return GET_ENGINE_BUILDER


hand_in_engine_builder(_storage_engine_builder)

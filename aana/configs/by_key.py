"""Settings read by key, as Aana SDK 0.2.4's code reads them.

Aana SDK 0.2.4 kept a datastore's configuration in a typed dict, so its code reads
``db_config.datastore_config["path"]``; the models of :mod:`aana.configs.datastores` answer
that as they answer ``.path``.
"""

from typing import Any

from pydantic import BaseModel


class ReadByKey(BaseModel):
    """A model that can also be read by key, as the typed dicts of Aana SDK 0.2.4 were.

    ``config["path"]`` is ``config.path``; an unknown key raises ``KeyError`` naming it.
    """

    def __getitem__(self, key: str) -> Any:
        """Return the field named ``key``."""
        if key not in type(self).model_fields:
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` names a field."""
        return key in type(self).model_fields

    def get(self, key: str, default: Any = None) -> Any:
        """Return the field named ``key``, or ``default`` if there is none."""
        return getattr(self, key) if key in self else default

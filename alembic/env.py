"""Alembic environment of aana's own migrations."""

import logging.config

from alembic import context

from aana.storage.migrations import run_env
from aana.storage.models import BaseEntity

if context.config.config_file_name is not None and context.config.attributes.get(
    "configure_logger", True
):
    logging.config.fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_env(BaseEntity.metadata)

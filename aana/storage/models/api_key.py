"""The API service's API keys: their own declarative base, metadata and database.

As in the Aana SDK, the API keys do not live in the app's database but in the API service's
(``Settings.api_service_db_config``, read from ``API_SERVICE_DB_CONFIG``). Their entity is
mapped on :class:`ApiServiceBase`, whose metadata is not ``BaseEntity.metadata``: aana's
migrations never create, check or drop the ``api_keys`` table. The API service creates its
database with ``ApiServiceBase.metadata.create_all(engine)`` (docs/aana-compat.md).
"""

import datetime
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aana.core.models.api_service import ApiKey
from aana.storage.models.base import NAMING_CONVENTION, TimeStampEntity
from aana.storage.types import UtcDateTime, timestamp

__all__ = ["ApiKeyEntity", "ApiServiceBase"]


class ApiServiceBase(DeclarativeBase):
    """Declarative base of the API service's entities, on a metadata of their own.

    A session binds it to the API service's engine and ``BaseEntity`` to the app's:
    ``sessionmaker(app_engine, binds={ApiServiceBase: api_engine, BaseEntity: app_engine})``, as
    :class:`aana.storage.op.DatabaseSessionManager` does when the API service is enabled.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime.datetime: UtcDateTime()}  # noqa: RUF012


class ApiKeyEntity(ApiServiceBase, TimeStampEntity):
    """An API key of the API service.

    Attributes:
        id (int): Row id.
        key_id (str): The key's id in the API gateway.
        user_id (str): The user who owns the key.
        api_key (str): The key itself.
        is_admin (bool): Whether the user is an admin.
        subscription_id (str): The subscription the key belongs to.
        is_subscription_active (bool): Whether the subscription has credits left; only
            users with an active subscription get their tasks run.
        hmac_secret (str | None): The secret for HMAC signatures of the user's webhooks.
        expired_at (datetime.datetime): When the key expires.
    """

    __tablename__ = "api_keys"
    __entity_name__ = "api key"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(unique=True, comment="The API key id in api gateway")
    user_id: Mapped[str] = mapped_column(index=True, comment="ID of the user who owns this API key")
    api_key: Mapped[str] = mapped_column(index=True, unique=True, comment="The API key")
    is_admin: Mapped[bool] = mapped_column(default=False, comment="Whether the user is an admin")
    subscription_id: Mapped[str] = mapped_column(comment="ID of the associated subscription")
    is_subscription_active: Mapped[bool] = mapped_column(
        default=True, comment="Whether the subscription is active (credits are available)"
    )
    hmac_secret: Mapped[str | None] = mapped_column(
        comment="The secret key for HMAC signature generation"
    )
    expired_at: Mapped[timestamp] = mapped_column(comment="The expiration date of the API key")

    def __repr__(self) -> str:
        """Show the key's ids, user and subscription; never the key or the HMAC secret."""
        return (
            f"<ApiKeyEntity(id={self.id}, key_id={self.key_id}, user_id={self.user_id}, "
            f"is_admin={self.is_admin}, subscription_id={self.subscription_id}, "
            f"is_subscription_active={self.is_subscription_active}, "
            f"expired_at={self.expired_at})>"
        )

    def to_model(self) -> ApiKey:
        """Return the key as the API service hands it to endpoints.

        Returns:
            ApiKey: The key's model.
        """
        return ApiKey(
            api_key=self.api_key,
            user_id=self.user_id,
            is_admin=self.is_admin,
            subscription_id=self.subscription_id,
            is_subscription_active=self.is_subscription_active,
            hmac_secret=self.hmac_secret,
        )

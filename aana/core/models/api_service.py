"""The API service's view of an API key."""

from pydantic import BaseModel, Field


class ApiKey(BaseModel):
    """An API key as the API service hands it to endpoints.

    The key and the HMAC secret are left out of the repr, so that logging the model does not
    log them.

    Attributes:
        api_key (str): The API key.
        user_id (str): The user who owns the key.
        subscription_id (str): The subscription the key belongs to.
        is_subscription_active (bool): Whether the subscription has credits left.
        is_admin (bool): Whether the user is an admin.
        hmac_secret (str | None): The secret for HMAC signatures of the user's webhooks.
    """

    api_key: str = Field(repr=False)
    user_id: str
    subscription_id: str
    is_subscription_active: bool
    is_admin: bool
    hmac_secret: str | None = Field(default=None, repr=False)

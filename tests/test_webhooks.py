"""Webhooks: the Aana SDK's WebhookRepository semantics, on both backends and both halves."""

import pickle
import re
import uuid

import pytest
from either import WebhookRepository
from halves import either_half  # noqa: F401
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from aana.exceptions.db import InvalidValueException, NotFoundException
from aana.exceptions.runtime import InvalidWebhookEventType
from aana.storage.models import WebhookEntity, WebhookEventType
from aana.testing.factories import WebhookEntityFactory


def hooks(session: Session) -> list[WebhookEntity]:
    repository = WebhookRepository(session)
    made = [
        WebhookEntity(user_id="u1", url="https://a.example", events=["task.completed"]),
        WebhookEntity(user_id="u1", url="https://b.example", events=["task.failed"]),
        WebhookEntity(user_id="u2", url="https://c.example", events=None),
        WebhookEntity(user_id=None, url="https://d.example", events=["task.started"]),
        WebhookEntity(user_id=None, url="https://e.example", events=[]),
    ]
    return [repository.save(webhook) for webhook in made]


def urls(webhooks: list[WebhookEntity]) -> list[str]:
    return [webhook.url for webhook in webhooks]


def test_save_normalises_events_and_read_takes_either_form_of_the_id(db_session: Session) -> None:
    repository = WebhookRepository(db_session)
    saved = repository.save(
        WebhookEntity(user_id="u1", url="https://a.example", events=[WebhookEventType.TASK_FAILED])
    )
    everything = repository.save(WebhookEntity(url="https://b.example", events=None))
    assert isinstance(saved.id, uuid.UUID)
    assert saved.events == ["task.failed"]
    assert everything.events == []
    assert repository.read(saved.id) is saved
    assert repository.read(str(saved.id)).url == "https://a.example"
    stored = db_session.execute(
        select(WebhookEntity.events).where(WebhookEntity.id == saved.id)
    ).scalar_one()
    assert stored == ["task.failed"]


def test_an_unknown_event_is_refused_before_any_sql(db_session: Session) -> None:
    repository = WebhookRepository(db_session)
    webhook = WebhookEntity(user_id="u1", url="https://a.example", events=["task.failed", "nope"])
    with pytest.raises(InvalidWebhookEventType, match=r"'nope' \(known: task\.completed") as raised:
        repository.save(webhook)
    assert raised.value.event_type == "nope"
    assert isinstance(raised.value, InvalidValueException) and isinstance(raised.value, ValueError)
    assert pickle.loads(pickle.dumps(raised.value)).event_type == "nope"
    assert webhook.events == ["task.failed", "nope"]
    with pytest.raises(InvalidValueException, match="events must be a list of event types"):
        repository.save(WebhookEntity(user_id="u1", url="https://b.example", events="task.failed"))
    count = select(func.count()).select_from(WebhookEntity)
    assert db_session.scalar(count) == 0
    assert repository.save(WebhookEntity(url="https://c.example", events=[])).id is not None


def test_system_webhooks_are_not_any_users_and_no_events_means_every_event(
    db_session: Session,
) -> None:
    hooks(db_session)
    repository = WebhookRepository(db_session)
    assert urls(repository.get_webhooks("u1")) == ["https://a.example", "https://b.example"]
    assert urls(repository.get_webhooks(None)) == ["https://d.example", "https://e.example"]
    assert repository.get_webhooks("u3") == []
    assert urls(repository.get_webhooks("u1", "task.failed")) == ["https://b.example"]
    assert urls(repository.get_webhooks("u2", "task.failed")) == ["https://c.example"]
    assert urls(repository.get_webhooks(None, "task.started")) == [
        "https://d.example",
        "https://e.example",
    ]
    assert urls(repository.get_webhooks(None, WebhookEventType.TASK_COMPLETED)) == [
        "https://e.example"
    ]


def test_an_unknown_event_type_in_a_query_is_refused(db_session: Session) -> None:
    hooks(db_session)
    repository = WebhookRepository(db_session)
    with pytest.raises(InvalidWebhookEventType, match=r"'task\.complete'"):
        repository.get_webhooks("u2", "task.complete")
    assert len(repository.get_webhooks("u2", "task.completed")) == 1


def test_an_empty_list_written_with_other_spacing_still_means_every_event(
    db_session: Session,
) -> None:
    # Aana SDK compared the JSON text with "[]" on SQLite; any empty array must do.
    (first, *_rest) = hooks(db_session)
    db_session.execute(text("UPDATE webhooks SET events = '[ ]' WHERE url = 'https://a.example'"))
    db_session.commit()
    repository = WebhookRepository(db_session)
    assert urls(repository.get_webhooks("u1", "task.failed")) == [
        "https://a.example",
        "https://b.example",
    ]
    assert repository.read(first.id).events == []


def test_delete_and_malformed_ids(db_session: Session) -> None:
    (first, *_rest) = hooks(db_session)
    repository = WebhookRepository(db_session)
    assert repository.delete(str(first.id)) is first
    assert repository.read(first.id, check=False) is None
    with pytest.raises(
        NotFoundException, match=re.escape(f"webhooks: no row with id {first.id!r}")
    ):
        repository.delete(first.id)
    for malformed in ("not-a-uuid", "", 42):
        assert repository.read(malformed, check=False) is None
        with pytest.raises(NotFoundException, match="webhooks: no row"):
            repository.read(malformed)
    assert len(repository.get_webhooks("u1")) == 1


def test_the_repr_leaves_out_the_urls_path_and_query() -> None:
    webhook = WebhookEntity(
        user_id="u1", url="https://user:pw@hooks.example.com/T0/B1/s3cret?token=t0k", events=[]
    )
    shown = repr(webhook)
    assert "hooks.example.com" in shown
    assert not {"s3cret", "t0k", "pw", "user:"} & set(shown.replace("'", " ").split("/"))
    assert "s3cret" not in shown and "t0k" not in shown and "pw@" not in shown


def test_the_factory_writes_webhooks_the_repository_reads(db_session: Session) -> None:
    made = WebhookEntityFactory.create_batch(2, user_id="factory-user")
    system = WebhookEntityFactory(user_id=None, events=[])
    repository = WebhookRepository(db_session)
    found = repository.get_webhooks("factory-user", "task.failed")
    assert sorted(hook.id for hook in found) == sorted(hook.id for hook in made)
    assert repository.get_webhooks(None, "task.started") == [system]


async def test_the_factory_writes_through_the_async_session(
    async_db_session: AsyncSession,
) -> None:
    from aana.storage.aio.repository import WebhookRepository as AsyncWebhookRepository

    made = await WebhookEntityFactory.acreate(user_id="async-user")
    found = await AsyncWebhookRepository(async_db_session).get_webhooks("async-user")
    assert [hook.id for hook in found] == [made.id]

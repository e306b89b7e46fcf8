"""Aana SDK task values made into aana's, by one rule: what aana would refuse to write is kept.

Aana SDK pickled task data; aana stores JSON. Its results were JSON already, but JSON that
aana's repositories refuse to write (:func:`aana.storage.repository.values.json_value`:
NUL, an unpaired surrogate) would be adopted as rows that the app could read and never write
back. So a value is converted only when aana would store it as it is:

- task data that is plain data (dicts with string keys, lists, tuples, strings, finite
  numbers, booleans, None) and that ``json_value`` takes becomes JSON; tuples become lists,
  as for any task aana saves, since JSON has no tuples;
- any other task data is kept whole, its pickle base64-encoded under :data:`PICKLE_KEY`; it
  is never unpickled beyond plain data, since a pickle runs the code it names;
- a result that ``json_value`` refuses is kept as its JSON text (escapes, all ASCII) under
  :data:`JSON_KEY`.

Each conversion that is not a plain copy is counted in a :class:`TaskValueReport`, by task id,
and told by ``aana migrate``.
"""

import base64
import io
import json
import math
import pickle
from dataclasses import dataclass, field
from typing import Any

from aana.exceptions.db import InvalidValueException
from aana.storage.repository.values import json_value

PICKLE_KEY = "aana_sdk_pickle"
"""Task data kept as ``{PICKLE_KEY: base64 of the pickle}``."""

JSON_KEY = "aana_sdk_json"
"""A task result kept as ``{JSON_KEY: its JSON text}``."""

REPORT_ATTRIBUTE = "aana_sdk_task_values"
"""Key of ``Config.attributes`` holding the adoption's :class:`TaskValueReport`."""


@dataclass
class TaskValueReport:
    """The task ids whose values were not copied as they were.

    Attributes:
        pickles (list[str]): Data that is not plain data, kept as base64 pickles.
        unstorable (list[str]): Data or results holding NUL or an unpaired surrogate, kept
            (data as base64 pickles, results as JSON text).
        tuples (list[str]): Data whose tuples became lists.
    """

    pickles: list[str] = field(default_factory=list)
    unstorable: list[str] = field(default_factory=list)
    tuples: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """Describe each kind of conversion that happened, naming the tasks.

        Returns:
            list[str]: One line per kind; empty if every value was copied as it was.
        """
        notes = []
        if self.pickles:
            notes.append(
                f"{len(self.pickles)} task data value(s) are not plain JSON data and were "
                f'kept as base64 pickles under "{PICKLE_KEY}": {", ".join(self.pickles)}'
            )
        if self.unstorable:
            notes.append(
                f"{len(self.unstorable)} task(s) held NUL or an unpaired surrogate, which "
                f'aana does not write as JSON, and were kept: data under "{PICKLE_KEY}", '
                f'results as JSON text under "{JSON_KEY}": {", ".join(self.unstorable)}'
            )
        if self.tuples:
            notes.append(
                f"{len(self.tuples)} task data value(s) held tuples, stored as JSON lists: "
                f"{', '.join(self.tuples)}"
            )
        return notes


class _DataOnly(pickle.Unpickler):
    """Unpickles plain data only: no class is ever looked up, so no code runs."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name}")


def task_data(task_id: str, pickled: bytes, report: TaskValueReport) -> Any:
    """Return an Aana SDK task's data as aana stores it.

    Args:
        task_id (str): The task, for the report.
        pickled (bytes): Its data, as Aana pickled it.
        report (TaskValueReport): Where a conversion that is not a plain copy is counted.

    Returns:
        Any: The data as JSON data, or ``{PICKLE_KEY: base64 of the pickle}``.
    """
    kept = {PICKLE_KEY: base64.b64encode(pickled).decode("ascii")}
    try:
        value = _DataOnly(io.BytesIO(pickled)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        report.pickles.append(task_id)
        return kept
    tuples: list[bool] = []
    if not _is_plain_data(value, tuples):
        report.pickles.append(task_id)
        return kept
    try:
        converted = json_value(value, "tasks", "data")
    except InvalidValueException:
        report.unstorable.append(task_id)
        return kept
    if tuples:
        report.tuples.append(task_id)
    return converted


def task_result(task_id: str, result: Any, report: TaskValueReport) -> Any:
    """Return an Aana SDK task's result as aana stores it.

    Args:
        task_id (str): The task, for the report.
        result (Any): Its result, as read from Aana's JSON column.
        report (TaskValueReport): Where a kept result is counted.

    Returns:
        Any: The result itself, or ``{JSON_KEY: its JSON text}`` when aana would refuse it.
    """
    try:
        json_value(result, "tasks", "result")
    except InvalidValueException:
        report.unstorable.append(task_id)
        return {JSON_KEY: json.dumps(result)}
    return result


def _is_plain_data(value: Any, tuples: list[bool]) -> bool:
    """Whether a value is plain data; appends to ``tuples`` for each tuple met."""
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        if isinstance(value, tuple):
            tuples.append(True)
        return all(_is_plain_data(item, tuples) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and _is_plain_data(item, tuples) for key, item in value.items()
        )
    return False

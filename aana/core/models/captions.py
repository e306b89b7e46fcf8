"""Captions generated for video frames."""

from pydantic import RootModel

Caption = str
"""A caption of one frame."""


class CaptionsList(RootModel[list[Caption]]):
    """A list of captions."""

    root: list[Caption]

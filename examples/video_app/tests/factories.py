"""Factories for the app's entities, bound to the running test's ``db_session`` by aana."""

import factory.fuzzy
from aana.testing.factories import VideoEntityFactory

from video_app.models import ExtendedVideoEntity, VideoProcessingStatus


class ExtendedVideoEntityFactory(VideoEntityFactory):
    """Extended videos, with a duration and a status."""

    class Meta:
        model = ExtendedVideoEntity

    duration = factory.fuzzy.FuzzyFloat(1.0, 3600.0)
    status = VideoProcessingStatus.CREATED

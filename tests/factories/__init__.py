"""The project's own test data, built on the factories ``aana.testing.factories`` ships."""

from factories.media import MediaWithOutputs, media_with_outputs
from factories.tasks import TaskQueue, task_queue

__all__ = ["MediaWithOutputs", "TaskQueue", "media_with_outputs", "task_queue"]

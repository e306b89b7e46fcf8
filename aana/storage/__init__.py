"""Storage layer: engines and sessions, entities, repositories and migrations."""

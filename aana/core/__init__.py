"""Core data models shared by the SDK and its storage layer."""

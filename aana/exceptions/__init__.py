"""Exceptions raised by the Aana SDK."""

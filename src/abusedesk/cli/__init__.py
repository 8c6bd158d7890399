"""Thin commands over the same services the API uses."""

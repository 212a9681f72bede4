"""Networking test fixtures; they live in netns_support.py so tests can import its helpers."""

from netns_support import netns_server  # noqa: F401 - a fixture, found by pytest here

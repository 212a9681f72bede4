"""Helpers shared by the test suites and the harness (scripts/test).

mkimage.py and registry.py import only the standard library: the harness runs them as root
with Debian's python3 before any venv exists.
"""

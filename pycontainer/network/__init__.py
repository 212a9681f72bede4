"""Rootless networking: published ports, slirp4netns, and user-defined networks.

Nothing is imported here so the per-container supervisor can import `network.slirp` alone;
pyroute2 is imported only inside the functions that build bridges and veths.
"""

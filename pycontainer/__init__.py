"""pyc: a rootless, daemonless container engine.

Nothing is imported here: the zipapp, the CLI and the per-container supervisor all import this
package, and the supervisor must stay small.
"""

__version__ = "0.1.0"

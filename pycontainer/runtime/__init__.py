"""OCI runtimes: pyc's own (builtin, in Python) and external ones (runc, crun) via their CLI."""

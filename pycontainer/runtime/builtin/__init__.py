"""pyc's built-in OCI runtime: the in-container setup sequence in Python (ctypes)."""

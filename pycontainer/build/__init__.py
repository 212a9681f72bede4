"""`pyc build`: the Dockerfile parser (`dockerfile`), the build context's `.dockerignore`
matcher (`context`), and the builder that runs the steps.

The parser and the matcher are pure: they read text and return data, never touch files.
"""

"""integration tests (a package, so test files may share basenames with the other suite)."""

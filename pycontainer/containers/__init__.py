"""Container records, the lifecycle table and the store (per-container locks, name index)."""

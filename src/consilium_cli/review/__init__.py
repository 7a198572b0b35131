"""Council code review of unified diffs."""

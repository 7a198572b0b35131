"""Command-line layer: parses flags, calls the core, renders the result."""

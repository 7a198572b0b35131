"""What `apply` can do: files, edits, shell, git, databases, with approval and undo."""

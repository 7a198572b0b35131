"""Per-role knowledge bases indexed in LanceDB."""

"""The ingest service: records pushed by other agencies become risk warnings and proactive cases."""

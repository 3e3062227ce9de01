"""wiretrace.ingest."""

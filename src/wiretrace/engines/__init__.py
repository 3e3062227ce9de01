"""wiretrace.engines."""

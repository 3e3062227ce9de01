"""wiretrace.web."""

"""wiretrace.analyze."""

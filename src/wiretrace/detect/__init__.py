"""wiretrace.detect."""

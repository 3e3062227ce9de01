"""Text stage: tokens with offsets, normalisation and aliases, fingerprints."""

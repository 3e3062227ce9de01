"""Warm-up for ingest worker processes: importing this module loads what readers
otherwise load on first use, once per process.

The ingest pool's fork server imports it (``work._new_pool``), so every worker forked
from the server starts with these loaded and shares them with the others, instead of
paying for each in each worker: the character class used for text past Latin
(``text.tokens``), the agency tables of the credit rules, CLD2. Not py3langid's model:
it takes 0.4 s to load, on the critical path of every pooled ingest, and is needed only
by the rare text CLD2 cannot place even on a wide sample (``ingest.language``).
"""

from __future__ import annotations

from wiretrace.ingest import credits, language, textfile
from wiretrace.settings import IngestSettings
from wiretrace.text import tokens

__all__ = ["warm"]


def warm() -> None:
    """Load the lazily loaded models and tables of the readers."""
    language.detect_language("Warm-up text for the language identifiers of wiretrace.")
    tokens.word_count("Ω")  # builds the class of characters past Latin
    credits._agency_regex()
    credits._byte_key_words()
    textfile.parse_text("Title\n\nA body line (AFP) -- reported by Reuters.", "-", None,
                        "text", IngestSettings())


warm()

"""The language an article is written in, without downloading anything.

py3langid (a maintained fork of langid.py, 97 languages) ships its naive Bayes model
inside the wheel; the model is loaded once per process, on first use (about 0.5 s).
Probabilities are normalised so that a text whose best language is not clearly ahead
(too short, mixed, or a list of names) gets no language rather than a wrong one.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["detect_language"]

#: Below this normalised probability the text's language is left unknown.
MIN_CONFIDENCE = 0.5
#: Texts shorter than this many letters carry too little evidence.
MIN_LETTERS = 20
#: Only the start of long texts is looked at: a few thousand characters decide.
MAX_CHARS = 1000

_lock = threading.Lock()
_identifier: Any = None


def _get_identifier() -> Any:
    global _identifier  # noqa: PLW0603  (one model per process, loaded lazily)
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(
                MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE
            )
        return _identifier


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language ("en", "fr", ...), or None if unsure.

    None for texts with fewer than ``MIN_LETTERS`` letters and when the best language's
    normalised probability is under ``MIN_CONFIDENCE``. Looks at the first ``MAX_CHARS``
    characters only.
    """
    sample = text[:MAX_CHARS]
    if sum(map(str.isalpha, sample)) < MIN_LETTERS:
        return None
    lang, _confidence = _get_identifier().classify(sample)
    if lang == "und" or not isinstance(lang, str):
        return None
    return lang

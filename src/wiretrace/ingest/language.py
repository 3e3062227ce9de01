"""The language an article is written in, without downloading anything.

Two identifiers, both shipping their models inside their wheels:

- **CLD2** (pycld2, Google's Compact Language Detector 2, C++; 80+ languages) answers
  first: it classifies a few hundred characters in about 15 microseconds, and says
  whether it is sure. At thousands of articles a second this is what keeps language
  identification off the ingest's critical path.
- **py3langid** (a maintained fork of langid.py, 97 languages; naive Bayes over byte
  n-grams walked in Python, about ten times slower) decides where CLD2 is unsure or
  gives no ISO 639-1 code: one-sentence texts, some close languages (CLD2 abstains on
  short Italian), text CLD2 refuses (control characters). Its probabilities are
  normalised, so a text whose best language is not clearly ahead (too short, mixed, a
  list of names) gets no language rather than a wrong one.

Only the start of a text is looked at (``MAX_CHARS``): two or three sentences of news
decide as well as the whole article (on the BBC and wikiref corpora, 300 characters
and 1,000 give the same language for every article). Where CLD2 is unsure of that
start, it looks again at a wider one (``WIDE_CHARS``) before py3langid is asked: a
sports report opening on a team line-up (a list of names) is English by its next
paragraphs. That leaves py3langid for the rare text CLD2 cannot place at all (on a
generated BBC corpus of 20,000 articles: 112 texts unsure at 300 characters, 3 at
3,000), so its model (0.4 s to load) is loaded only by a process that needs it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

__all__ = ["detect_language"]

log = logging.getLogger(__name__)

#: Below this normalised probability the text's language is left unknown.
MIN_CONFIDENCE = 0.5
#: Texts shorter than this many letters carry too little evidence.
MIN_LETTERS = 20
#: Characters of the text's start that are classified.
MAX_CHARS = 300
#: Characters of the text's start CLD2 looks at when unsure of the first ``MAX_CHARS``.
WIDE_CHARS = 5000
#: CLD2's answer is taken when it is "reliable" and covers at least this share (percent)
#: of the sample.
CLD2_MIN_PERCENT = 60

#: CLD2 codes that are not the ISO 639-1 code of their language.
_CLD2_CODES = {"iw": "he", "jw": "jv", "in": "id", "zh-Hant": "zh", "mo": "ro"}

_lock = threading.Lock()
_identifier: Any = None


def _get_identifier() -> Any:
    global _identifier  # noqa: PLW0603  (one model per process, loaded lazily)
    with _lock:
        if _identifier is None:
            _identifier = _cached_identifier()
        return _identifier


def _cached_identifier() -> Any:
    """py3langid's identifier, through a copy in the user's cache folder.

    py3langid ships its model xz-compressed: decompressing it takes 0.4 s, paid by
    every process that needs the model. The built identifier is kept once, pickled, in
    ``$WIRETRACE_CACHE`` (default ``$XDG_CACHE_HOME/wiretrace``, else
    ``~/.cache/wiretrace``), named by py3langid's version and the model file's size
    and time, and loaded from there (0.1 s) by later processes. The folder is the
    user's own, like the installed packages the copy is made from; a copy that cannot
    be written or read is done without (the model is then built as usual).
    """
    import os
    import pickle
    from importlib.metadata import version
    from pathlib import Path

    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    def build() -> Any:
        return LanguageIdentifier.from_model_file(
            MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE
        )

    try:
        model = Path(MODEL_DIR) / MODEL_FILE
        st = model.stat()
        root = os.environ.get("WIRETRACE_CACHE") or (
            Path(os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser())
            / "wiretrace"
        )
        name = f"py3langid-{version('py3langid')}-{st.st_size}-{st.st_mtime_ns}-{MIN_CONFIDENCE}"
        cached = Path(root) / f"{name}.pickle"
    except (OSError, ValueError, ImportError, RuntimeError):  # RuntimeError: no home
        return build()
    try:
        with cached.open("rb") as source:
            return pickle.load(source)  # noqa: S301  (written by this function, see above)
    except Exception:  # noqa: BLE001  (none yet, or damaged: built and written again)
        log.debug("no usable copy of the py3langid model at %s", cached)
    identifier = build()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")
        with partial.open("wb") as fh:
            pickle.dump(identifier, fh, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(cached)
    except OSError as exc:
        log.debug("cannot keep a copy of the py3langid model: %s", exc)
    return identifier


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language ("en", "fr", ...), or None if unsure.

    None for texts with fewer than ``MIN_LETTERS`` letters and when neither identifier
    is sure (see the module docs). Looks at the first ``MAX_CHARS`` characters of text
    (after leading blanks), cut at a word end.
    """
    sample = _sample(text)
    if _letters(sample) < MIN_LETTERS:
        return None
    lang = _cld2(sample)
    if lang is None and len(text) > len(sample) + MAX_CHARS // 2:
        lang = _cld2(_sample(text, WIDE_CHARS))
    if lang is not None:
        return lang
    lang, _confidence = _get_identifier().classify(sample)
    if lang == "und" or not isinstance(lang, str):
        return None
    return lang


def _cld2(sample: str) -> str | None:
    """CLD2's language for ``sample`` when it is sure and names an ISO 639-1 code."""
    try:
        import pycld2
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        reliable, _bytes, details = pycld2.detect(
            sample.encode("utf-8", "replace"), isPlainText=True
        )
    except pycld2.error:  # control characters and the like: py3langid decides
        return None
    if not reliable or not details:
        return None
    _name, code, percent, _score = details[0]
    code = _CLD2_CODES.get(code, code)
    if percent < CLD2_MIN_PERCENT or len(code) != 2 or code == "un":
        return None
    return str(code)


#: The bytes of ASCII that are not letters.
_NOT_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


def _letters(sample: str) -> int:
    """How many characters of ``sample`` are letters (``str.isalpha``), counted by a
    C-level pass for ASCII text."""
    if sample.isascii():
        return len(sample.encode("ascii").translate(None, _NOT_LETTERS))
    return sum(map(str.isalpha, sample))


def _sample(text: str, size: int = MAX_CHARS) -> str:
    """The first ``size`` characters after leading whitespace, without a cut word at
    the end (a partial word adds n-grams of no language)."""
    head = text[: size * 2]
    start = len(head) - len(head.lstrip())
    sample = text[start : start + size + 1]
    if len(sample) > size:
        cut = sample.rfind(" ", size // 2, size)
        sample = sample[:cut] if cut > 0 else sample[:size]
    return sample

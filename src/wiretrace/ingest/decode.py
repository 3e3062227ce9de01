"""Bytes to text for files whose encoding nobody declared.

:func:`decode_bytes` is the single place where raw file content becomes text:

1. a UTF-32/UTF-16 byte-order mark decides the codec (and is dropped);
2. binary content (NUL bytes, many control bytes) is refused with ``IngestError``;
3. UTF-8, with or without its byte-order mark (the mark is dropped), is tried strictly;
   UTF-8 with a few invalid bytes among many valid multi-byte characters is read as
   UTF-8 with those bytes replaced by U+FFFD, and a warning says how many;
4. otherwise the encoding is guessed and a warning says which one was used.

Line ends are never translated: ``\\r\\n`` stays ``\\r\\n``, so character offsets into the
returned text are offsets into the decoded file (after a dropped byte-order mark).

Why the guess is not simply charset-normalizer's ``best()``: on real news files in a
legacy Western encoding (WikiRef220: a few curly quotes, dashes or a pound sign in
otherwise ASCII text) it picks cp1250, cp775 or even cp932 with equal or lower "chaos",
because a handful of bytes carries no statistics. Windows-1252 is by far the most common
undeclared legacy encoding of news text, so it is used when it decodes the bytes and the
non-ASCII share is small; charset-normalizer decides the rest (Cyrillic, Greek, CJK ...),
with cp1252 still preferred among candidates it rates about as well as its best.
"""

from __future__ import annotations

import codecs
import logging
import re

from charset_normalizer import from_bytes

from wiretrace.errors import IngestError

__all__ = ["decode_bytes"]

log = logging.getLogger(__name__)

#: How much of the data is inspected for binary content.
_SNIFF_BYTES = 65_536
#: More control bytes than this share (of the sniffed part) means binary data.
_MAX_CONTROL_SHARE = 0.01
#: At most this share of non-ASCII bytes: cp1252 is assumed if it decodes the data.
_WESTERN_HIGH_SHARE = 0.02
#: Candidates whose chaos is within this of the best count as tied.
_CHAOS_TIE = 0.02

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control bytes other than tab, line feed, vertical tab, form feed, carriage return
# and escape (seen in some old text files).
_CONTROL = bytes(sorted(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}))
_HIGH = bytes(range(0x80, 0x100))
_PREFERRED = ("cp1252", "iso8859_15", "latin_1")


def decode_bytes(data: bytes, name: str) -> tuple[str, tuple[str, ...]]:
    """Decode file content to text.

    ``name`` names the input in errors. Returns ``(text, warnings)``; ``warnings`` is
    empty for UTF-8 and for byte-order-marked Unicode, else one line such as
    ``"encoding guessed as cp1252"``. Raises :class:`IngestError` for binary data
    (NUL bytes or a high share of control bytes) and for bytes no encoding explains.
    Line ends are kept as they are.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec.replace("-", "_") + _endianness(bom)), ()
            except UnicodeDecodeError as exc:
                reason = f"invalid {codec} after its byte-order mark: {exc}"
                raise IngestError(name, reason) from None
    _refuse_binary(data, name)
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        pass
    damaged = _damaged_utf8(data)
    if damaged is not None:
        text, bad = damaged
        log.info("%s: UTF-8 with %d invalid bytes", name, bad)
        return text, (f"UTF-8 with {bad} invalid byte{'s' * (bad != 1)} (read as U+FFFD)",)
    guessed = _guess(data)
    if guessed is None:
        raise IngestError(name, "binary file or unknown encoding (no text encoding fits)")
    log.info("%s: not UTF-8, decoded as %s", name, guessed)
    return data.decode(guessed), (f"encoding guessed as {guessed} (not UTF-8)",)


#: A file is damaged UTF-8 (not a legacy encoding) when its valid multi-byte UTF-8
#: characters outnumber its invalid bytes this many times: legacy text (cp1252 ...)
#: almost never forms valid multi-byte sequences, so a few stray bytes in a file full
#: of them are damage, and guessing another codec would garble every other character.
_UTF8_EVIDENCE = 4
_ESCAPED = re.compile("[\udc80-\udcff]")  # undecodable bytes under "surrogateescape"
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _damaged_utf8(data: bytes) -> tuple[str, int] | None:
    """``(text, invalid bytes)`` when ``data`` is UTF-8 with a few invalid bytes (each
    read as U+FFFD), else None."""
    escaped = data.decode("utf-8-sig", "surrogateescape")
    bad = len(_ESCAPED.findall(escaped))
    multibyte = len(_NON_ASCII.findall(escaped)) - bad
    if bad == 0 or multibyte < _UTF8_EVIDENCE * bad:
        return None
    return data.decode("utf-8-sig", "replace"), bad


def _endianness(bom: bytes) -> str:
    return "_le" if bom in (codecs.BOM_UTF32_LE, codecs.BOM_UTF16_LE) else "_be"


def _refuse_binary(data: bytes, name: str) -> None:
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        raise IngestError(name, "binary file (contains NUL bytes), not text")
    if head:
        controls = len(head) - len(head.translate(None, _CONTROL))
        if controls / len(head) > _MAX_CONTROL_SHARE:
            raise IngestError(
                name, f"binary file ({controls} control bytes in the first {len(head)}), not text"
            )


def _guess(data: bytes) -> str | None:
    """The codec name to decode non-UTF-8 ``data`` with, or None if nothing fits."""
    head = data[:_SNIFF_BYTES]
    sniffed = len(head)
    high = sniffed - len(head.translate(None, _HIGH))
    if sniffed and high / sniffed <= _WESTERN_HIGH_SHARE and _decodes(data, "cp1252"):
        return "cp1252"
    matches = list(from_bytes(data))
    if not matches:
        return "cp1252" if _decodes(data, "cp1252") else None
    best = matches[0]
    tied = {
        m.encoding
        for m in matches
        if m.chaos <= best.chaos + _CHAOS_TIE and m.coherence >= best.coherence - 0.05
    }
    for codec in _PREFERRED:
        if codec in tied and _decodes(data, codec):
            return codec
    guessed = str(best.encoding)
    # Where the guess and cp1252 read the bytes alike (curly quotes and dashes sit at
    # the same code points in most Windows code pages), name the common one.
    if _decodes(data, "cp1252") and data.decode("cp1252") == data.decode(guessed):
        return "cp1252"
    return guessed


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True

"""Normalised token sequences: what detection compares.

``normalize`` turns an article's body into a ``TokenSeq``: the tokenizer's tokens
(excluded spans skipped, case and accents folded per ``text.fold_accents``), numbers
written with thousands separators unified ("1,000" and "1000" give "1000"), and every
alias occurrence (longest match, see ``text.aliases``) merged into one token whose norm
is the entity's key ("U.S.", "USA" and "United States" all give "§united_states"). A
merged token covers the whole phrase: ``starts[i]``/``ends[i]`` are the first word's
start and the last word's end (code point offsets into the text, end exclusive) and
``words[i]`` counts the surface words it covers, so ``seq.word_total`` stays the body's
word count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wiretrace.models import Article, Span
from wiretrace.settings import Settings, TextSettings
from wiretrace.text.aliases import AliasTable
from wiretrace.text.tokens import TokenSeq, tokenize

__all__ = ["normalize", "normalize_number"]

_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_GROUPED_IN_TEXT = re.compile(r"\d,\d{3}")


def normalize_number(norm: str) -> str:
    """ "1,000,000" -> "1000000" (thousands separators of English style); else unchanged.

    Only commas between groups of exactly three digits are removed, so "3,5" (a decimal
    comma) and "1.000" (ambiguous) are left as written.
    """
    if _GROUPED.fullmatch(norm):
        return norm.replace(",", "")
    return norm


def normalize(
    article_or_text: Article | str,
    aliases: AliasTable | None,
    settings: Settings | TextSettings | None = None,
    excluded: Iterable[Span] = (),
) -> TokenSeq:
    """The normalised token sequence of an article's body (or of a text).

    For an ``Article`` its ``excluded`` spans (title, boilerplate) are skipped, plus any
    given in ``excluded``. ``aliases=None`` skips alias merging.
    """
    if isinstance(article_or_text, Article):
        text = article_or_text.text
        spans = [*article_or_text.excluded, *excluded]
    else:
        text = article_or_text
        spans = list(excluded)
    text_settings = settings.text if isinstance(settings, Settings) else settings
    accents = text_settings.fold_accents if text_settings is not None else True
    seq = tokenize(text, spans, accents)
    norms = seq.norms
    if _GROUPED_IN_TEXT.search(text):  # one scan of the text spares a loop over tokens
        for i, n in enumerate(norms):
            if "," in n and n[0].isdigit():
                norms[i] = normalize_number(n)
    if aliases is None or not norms:
        return seq
    blocked = sorted(s.start for s in spans)
    matches = list(aliases.index(accents).scan(seq, text, blocked))
    if not matches:
        return seq
    out = TokenSeq()
    starts, ends, words = seq.starts, seq.ends, seq.words
    pos = 0
    for m in matches:
        if m.start > pos:
            out.starts += starts[pos : m.start]
            out.ends += ends[pos : m.start]
            out.norms += norms[pos : m.start]
            out.words += words[pos : m.start]
        last = m.start + m.length - 1
        out.starts.append(starts[m.start])
        out.ends.append(ends[last])
        out.norms.append(m.key)
        out.words.append(sum(words[m.start : last + 1]))
        pos = last + 1
    out.starts += starts[pos:]
    out.ends += ends[pos:]
    out.norms += norms[pos:]
    out.words += words[pos:]
    return out

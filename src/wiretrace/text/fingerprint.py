"""Hashed token n-grams, winnowing, and the postings table candidates are drawn from.

Hashes are signed 64-bit integers (they fit DuckDB ``BIGINT``/Arrow ``int64``) and are
stable across processes, machines and runs (xxHash3 of the UTF-8 norm, combined with
fixed constants), so postings stored in one run join with those of the next.

Winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003): in every window of ``window``
consecutive n-gram hashes the minimum is selected, the rightmost one on ties, and each
selected position is kept once. Guarantee: two sequences that share a run of at least
``window + n - 1`` tokens (equal norms) share at least one fingerprint, because that run
holds a whole window, whose minimum both sides select. A sequence with fewer than
``window`` n-grams keeps its smallest n-gram hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import xxhash

from wiretrace.settings import Settings, TextSettings
from wiretrace.text.tokens import TokenSeq, is_unspaced

__all__ = [
    "POSTINGS_SCHEMA",
    "article_key",
    "fingerprints",
    "ngram_hashes",
    "ngram_size",
    "postings_table",
]

Int64Array = npt.NDArray[np.int64]

POSTINGS_SCHEMA = pa.schema([("article", pa.int64()), ("hash", pa.int64()), ("pos", pa.int32())])

# Odd 64-bit constants: the polynomial base of the n-gram combination and the
# splitmix64 finaliser, which spreads the combination over all 64 bits.
_BASE = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_VOCAB_LIMIT = 2_000_000  # cached token hashes before the cache is cleared


class _TokenHashes(dict[str, int]):
    """norm -> xxh3 64-bit hash, computed once per distinct norm in a process."""

    def __missing__(self, norm: str) -> int:
        if len(self) >= _VOCAB_LIMIT:
            self.clear()
        value = xxhash.xxh3_64_intdigest(norm.encode("utf-8", "surrogatepass"))
        self[norm] = value
        return value


_TOKEN_HASHES = _TokenHashes()


def _token_hashes(norms: Sequence[str]) -> npt.NDArray[np.uint64]:
    return np.fromiter(map(_TOKEN_HASHES.__getitem__, norms), np.uint64, len(norms))


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    x = x ^ (x >> _S30)
    x = x * _MIX1
    x = x ^ (x >> _S27)
    x = x * _MIX2
    return x ^ (x >> _S31)


def ngram_hashes(seq: TokenSeq | Sequence[str], n: int) -> Int64Array:
    """Hash of every run of ``n`` consecutive norms: entry ``i`` covers tokens ``[i, i+n)``.

    Length ``len(seq) - n + 1`` (empty when the sequence is shorter than ``n``).
    Raises ``ValueError`` for ``n < 1``.
    """
    if n < 1:
        raise ValueError(f"n-gram size must be at least 1, not {n}")
    norms = seq.norms if isinstance(seq, TokenSeq) else seq
    count = len(norms) - n + 1
    if count <= 0:
        return np.empty(0, np.int64)
    tokens = _token_hashes(norms)
    acc = tokens[:count].copy()
    for k in range(1, n):
        # unsigned arithmetic wraps modulo 2**64, as a polynomial hash needs
        acc = acc * _BASE + tokens[k : k + count]
    return _mix(acc).view(np.int64)


def winnow(hashes: Int64Array, window: int) -> npt.NDArray[np.int64]:
    """Positions (sorted, distinct) that robust winnowing selects from ``hashes``."""
    if window < 1:
        raise ValueError(f"winnowing window must be at least 1, not {window}")
    count = len(hashes)
    if count == 0:
        return np.empty(0, np.int64)
    if count <= window:
        # rightmost minimum of the one (short) window
        return np.array([count - 1 - int(np.argmin(hashes[::-1]))], np.int64)
    if window == 1:
        return np.arange(count, dtype=np.int64)
    # window minima by w-1 elementwise minimums: cheaper than sliding_window_view +
    # argmin for the small windows used here
    starts = count - window + 1
    minima = hashes[:starts].copy()
    for k in range(1, window):
        np.minimum(minima, hashes[k : k + starts], out=minima)
    # the rightmost position holding the minimum: later offsets overwrite earlier ones
    base = np.arange(starts, dtype=np.int64)
    picked = base.copy()
    for k in range(1, window):
        picked = np.where(hashes[k : k + starts] == minima, base + k, picked)
    # picks never move left from one window to the next (the rightmost minimum stays
    # until a smaller or equal hash enters), so dropping repeats leaves them distinct
    keep = np.empty(starts, bool)
    keep[0] = True
    np.not_equal(picked[1:], picked[:-1], out=keep[1:])
    return picked[keep]


def fingerprints(
    seq: TokenSeq | Sequence[str], n: int, window: int
) -> tuple[Int64Array, npt.NDArray[np.int32]]:
    """Winnowed fingerprints: ``(hashes, positions)``, parallel arrays in token order.

    ``positions[j]`` is the index of the first token of the n-gram hashed in
    ``hashes[j]`` (an index into ``seq``; ``seq.starts[pos]`` is its character offset).
    """
    hashes = ngram_hashes(seq, n)
    positions = winnow(hashes, window)
    return hashes[positions], positions.astype(np.int32)


def ngram_size(seq: TokenSeq, settings: Settings | TextSettings) -> int:
    """``text.cjk_ngram`` when most tokens are characters of an unspaced script
    (Chinese, Japanese, Thai...), else ``text.ngram``."""
    text = settings.text if isinstance(settings, Settings) else settings
    norms = seq.norms
    # one C-level check settles most articles (alias keys carry a non-ASCII "§")
    if not norms or "".join(norms).replace("§", "").isascii():
        return text.ngram
    unspaced = sum(1 for x in norms if not x.isascii() and is_unspaced(x))
    return text.cjk_ngram if unspaced * 2 > len(norms) else text.ngram


def article_key(article_id: str) -> int:
    """Stable signed 64-bit key of a user's article id (xxHash3 of its UTF-8 bytes)."""
    value = xxhash.xxh3_64_intdigest(article_id.encode("utf-8", "surrogatepass"))
    return value - (1 << 64) if value >= 1 << 63 else value


def postings_table(
    article_keys: Sequence[int],
    seqs: Sequence[TokenSeq],
    settings: Settings | TextSettings,
) -> pa.Table:
    """Fingerprints of many articles as one Arrow table (``POSTINGS_SCHEMA``):
    ``article`` (the key given for ``seqs[i]``), ``hash``, ``pos`` (token index), in
    input order and token order; row for row what ``fingerprints`` gives each article.

    The n-gram size of each article follows ``ngram_size``; the window is
    ``text.winnow_window``. Articles of one n-gram size are hashed and winnowed as one
    concatenated array (numpy's per-call cost is paid per batch, not per article).
    """
    if len(article_keys) != len(seqs):
        raise ValueError(f"{len(article_keys)} article keys for {len(seqs)} sequences")
    text = settings.text if isinstance(settings, Settings) else settings
    window = text.winnow_window
    if window < 1:
        raise ValueError(f"winnowing window must be at least 1, not {window}")
    sizes = [ngram_size(seq, text) for seq in seqs]
    parts: list[tuple[Int64Array, Int64Array, Int64Array]] = []  # (article#, hash, pos)
    for n in sorted(set(sizes)):
        members = np.array([i for i, size in enumerate(sizes) if size == n], np.int64)
        parts.append(_batch_fingerprints(members, [seqs[i] for i in members], n, window))
    if not parts:
        return POSTINGS_SCHEMA.empty_table()
    order_in = np.concatenate([p[0] for p in parts])
    # back to input order (stable: positions stay in token order within an article)
    order = np.argsort(order_in, kind="stable")
    keys = np.asarray(article_keys, np.int64)
    return pa.table(
        [
            pa.array(keys[order_in[order]], pa.int64()),
            pa.array(np.concatenate([p[1] for p in parts])[order], pa.int64()),
            pa.array(np.concatenate([p[2] for p in parts])[order].astype(np.int32), pa.int32()),
        ],
        schema=POSTINGS_SCHEMA,
    )


def _batch_fingerprints(
    members: Int64Array, seqs: Sequence[TokenSeq], n: int, window: int
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """``fingerprints`` of several sequences at once: (member, hash, local position)."""
    lens = np.fromiter((len(s) for s in seqs), np.int64, len(seqs))
    offsets = np.cumsum(lens) - lens
    counts = np.maximum(lens - n + 1, 0)  # n-grams per sequence
    total = int(lens.sum())
    empty = np.empty(0, np.int64)
    if total < n or not counts.any():
        return empty, empty, empty
    hashes = ngram_hashes(list(chain.from_iterable(s.norms for s in seqs)), n)
    # hashes[offsets[a] + j] is n-gram j of sequence a for j < counts[a]; the others
    # straddle two sequences and no valid window covers them
    picked_parts: list[Int64Array] = []
    owner_parts: list[Int64Array] = []
    full = counts >= window
    if full.any() and len(hashes) >= window:
        starts = len(hashes) - window + 1
        minima = hashes[:starts].copy()
        for k in range(1, window):
            np.minimum(minima, hashes[k : k + starts], out=minima)
        base = np.arange(starts, dtype=np.int64)
        rightmost = base.copy()  # later offsets overwrite earlier ones: the rightmost
        for k in range(1, window):
            rightmost = np.where(hashes[k : k + starts] == minima, base + k, rightmost)
        per = np.where(full, counts - window + 1, 0)  # valid windows per sequence
        owner = np.repeat(np.arange(len(seqs), dtype=np.int64), per)
        first = np.cumsum(per) - per
        window_starts = offsets[owner] + (np.arange(int(per.sum()), dtype=np.int64) - first[owner])
        picked = rightmost[window_starts]
        keep = np.empty(len(picked), bool)
        keep[0] = True
        # global positions grow across sequences, so a repeat is always within one
        np.not_equal(picked[1:], picked[:-1], out=keep[1:])
        picked_parts.append(picked[keep])
        owner_parts.append(owner[keep])
    for a in np.flatnonzero((counts > 0) & ~full):  # fewer n-grams than one window
        lo, c = int(offsets[a]), int(counts[a])
        part = hashes[lo : lo + c]
        picked_parts.append(np.array([lo + c - 1 - int(np.argmin(part[::-1]))], np.int64))
        owner_parts.append(np.array([a], np.int64))
    picked = np.concatenate(picked_parts)
    owner = np.concatenate(owner_parts)
    order = np.lexsort((picked, owner))
    picked, owner = picked[order], owner[order]
    return members[owner], hashes[picked], picked - offsets[owner]

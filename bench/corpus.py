"""Synthetic news collections with planted reuse, for the scale benchmarks.

The BBC set has about 28,000 distinct sentences: far too few for 10^6 articles that
must not share text by accident. So each synthetic sentence is a real BBC sentence with a
share of its words (``resample``, default 0.5) replaced by words drawn by frequency from
the same position class (capitalised or not, with the same trailing punctuation). The
result reads like shuffled news, keeps the real length and vocabulary distributions,
and two unrelated articles share about as little text as unrelated real news does:
:func:`accidental_sharing` measures both and the generator reports them side by side.

On top of the base articles, reuse of every kind is planted with character-level truth:
verbatim and partial copies, spun copies (alias swaps from the bench's own list,
synonyms, inserted and dropped words), sentence-shuffled copies, patchworks of two or
three sources with inserted sentences, copy chains and reprint floods (one story
reprinted by many outlets).

Writes ``articles.jsonl`` (id, title, text, outlet, published: wiretrace's table input),
``passim.jsonl`` (id, series, text: passim's input format, the same texts) and
``truth.jsonl`` (one planted pair a line: source, target, kind, passages
[[s_start, s_end, t_start, t_end], ...]).

Run: ``python bench/corpus.py --articles 10000 --out bench/out/c10k``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"

# The bench's own substitution list: deliberately independent of wiretrace's alias table,
# with pairs that table lacks.
SPIN_SWAPS: tuple[tuple[str, str], ...] = (
    ("US", "United States"),
    ("UK", "Britain"),
    ("said", "stated"),
    ("firm", "company"),
    ("big", "large"),
    ("rise", "increase"),
    ("shares", "stocks"),
    ("Mr Blair", "Tony Blair"),
    ("Labour", "the Labour Party"),
    ("Tories", "Conservatives"),
    ("chancellor", "finance minister"),
    ("film", "movie"),
    ("mobile phone", "cellphone"),
)
FILLERS = ("indeed", "reportedly", "also", "now", "still", "already")
OUTLETS = tuple(f"Outlet {i:03d}" for i in range(300))

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


@dataclass
class Doc:
    id: str
    title: str
    paragraphs: list[list[str]]  # sentences per paragraph
    outlet: str
    published: str | None

    def render(self) -> tuple[str, list[tuple[int, int, str]]]:
        """The text and each sentence's (start, end, sentence)."""
        parts: list[str] = []
        spans: list[tuple[int, int, str]] = []
        pos = 0
        for i, para in enumerate(self.paragraphs):
            if i:
                parts.append("\n\n")
                pos += 2
            for j, sent in enumerate(para):
                if j:
                    parts.append(" ")
                    pos += 1
                spans.append((pos, pos + len(sent), sent))
                parts.append(sent)
                pos += len(sent)
        return "".join(parts), spans


@dataclass
class Truth:
    source: str
    target: str
    kind: str
    sentences: list[tuple[str, str]] = field(default_factory=list)  # (source sent, target sent)


class SentenceSynth:
    """Draws synthetic sentences: real BBC sentences with words resampled by frequency."""

    def __init__(self, bbc_dir: Path, resample: float, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.resample = resample
        sentences: list[list[str]] = []
        seen: set[str] = set()
        for path in sorted(bbc_dir.glob("*/*.txt")):
            raw = path.read_bytes().decode("utf-8", "replace")
            body = raw.split("\n", 1)[1] if "\n" in raw else raw
            for para in body.split("\n"):
                for sent in _SENT.split(para.strip()):
                    words = sent.split()
                    if len(words) >= 6 and sent not in seen:
                        seen.add(sent)
                        sentences.append(words)
        self.n_base = len(sentences)
        vocab: dict[str, int] = {}
        ids: list[int] = []
        offsets = [0]
        for words in sentences:
            for w in words:
                ids.append(vocab.setdefault(w, len(vocab)))
            offsets.append(len(ids))
        self.vocab = np.array(list(vocab), dtype=object)
        self.ids = np.array(ids, dtype=np.int64)
        self.offsets = np.array(offsets, dtype=np.int64)
        counts = np.bincount(self.ids, minlength=len(vocab)).astype(np.float64)
        # Position classes: a word only replaces one of the same shape, so sentences keep
        # their capitals and punctuation where they were.
        cls = np.array([_shape(w) for w in self.vocab], dtype=np.int64)
        self.cls_of = cls
        self.cls_words: dict[int, np.ndarray] = {}
        self.cls_cdf: dict[int, np.ndarray] = {}
        for c in np.unique(cls):
            members = np.nonzero(cls == c)[0]
            self.cls_words[int(c)] = members
            cdf = np.cumsum(counts[members])
            self.cls_cdf[int(c)] = cdf / cdf[-1]

    def sentences(self, n: int) -> list[str]:
        """``n`` synthetic sentences (vectorised: one draw per word class, not per word)."""
        picks = self.rng.integers(0, self.n_base, size=n)
        lo, hi = self.offsets[picks], self.offsets[picks + 1]
        lens = hi - lo
        flat = self.ids[np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())]
        # keep the first word of each sentence, so sentences still start like sentences
        mask = self.rng.random(len(flat)) < self.resample
        mask[np.cumsum(lens) - lens] = False
        where = np.nonzero(mask)[0]
        classes = self.cls_of[flat[where]]
        for c in np.unique(classes):
            at = where[classes == c]
            cdf = self.cls_cdf[int(c)]
            draw = np.searchsorted(cdf, self.rng.random(len(at)))
            flat[at] = self.cls_words[int(c)][np.minimum(draw, len(cdf) - 1)]
        words = self.vocab[flat]
        bounds = np.cumsum(lens)
        return [" ".join(words[b - k : b]) for b, k in zip(bounds, lens, strict=True)]


def _shape(word: str) -> int:
    lead = 1 if word[:1].isupper() else 0
    tail = word[-1] if word and not word[-1].isalnum() else ""
    return lead * 16 + ".,;:!?\"')%".find(tail) + 1


def _spin(sentence: str, rng: random.Random) -> str:
    """Alias and synonym swaps from the bench's list, plus an inserted or dropped word."""
    out = sentence
    for a, b in SPIN_SWAPS:
        if rng.random() < 0.7:
            out = re.sub(rf"\b{re.escape(a)}\b", b, out)
    words = out.split(" ")
    if len(words) > 8 and rng.random() < 0.4:
        words.insert(rng.randrange(1, len(words) - 1), rng.choice(FILLERS))
    if len(words) > 10 and rng.random() < 0.3:
        del words[rng.randrange(1, len(words) - 1)]
    return " ".join(words)


def generate(
    n_articles: int, seed: int = 7, resample: float = 0.5
) -> Iterator[tuple[Doc, list[Truth]]]:
    """Yields articles in order, each with the truth pairs it is the target of."""
    rng = random.Random(seed)
    synth = SentenceSynth(BBC, resample, seed)
    docs: dict[str, Doc] = {}
    n_derived = n_articles // 5  # 20% of articles reuse another one
    kinds = ("verbatim", "partial", "spun", "shuffled", "patchwork", "chain")
    # Reprint floods: about 5% of the collection, in a few large groups.
    n_floods = max(2, round(n_articles**0.5 / 20))
    flood_size = max(10, n_articles // 20 // n_floods)
    flood_starts = set(rng.sample(range(n_articles // 10, n_articles), n_floods))
    flood_source: str | None = None
    flood_left = 0
    base_ids: list[str] = []
    derived_ids: list[str] = []
    for i in range(n_articles):
        aid = f"a{i:07d}"
        outlet = rng.choice(OUTLETS)
        published = (
            f"2024-{1 + i * 12 // n_articles:02d}-{1 + rng.randrange(28):02d}T"
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00+00:00"
        )
        derive = len(base_ids) > 10 and rng.random() < n_derived / n_articles
        if i in flood_starts and not flood_left:
            flood_source, flood_left = rng.choice(base_ids), flood_size
        if not derive and flood_left == 0:
            n_sent = rng.randint(12, 24)
            sents = synth.sentences(n_sent + 1)
            doc = Doc(aid, sents[0].rstrip("."), _paragraphs(sents[1:], rng), outlet, published)
            docs[aid] = doc
            base_ids.append(aid)
            yield doc, []
            continue
        kind = "flood" if flood_left else rng.choice(kinds)
        if kind == "flood":
            assert flood_source is not None
            flood_left -= 1
            src = docs[flood_source]
            doc = Doc(aid, src.title, [list(p) for p in src.paragraphs], outlet, published)
            truth = [Truth(src.id, aid, kind, [(s, s) for p in src.paragraphs for s in p])]
        elif kind == "chain" and derived_ids:
            mid = docs[rng.choice(derived_ids[-200:])]
            doc, truth = _derive(aid, mid, "spun", synth, rng, outlet, published)
        else:
            kind = "spun" if kind == "chain" else kind
            sources = [docs[rng.choice(base_ids)] for _ in range(rng.randint(2, 3))]
            if kind == "patchwork":
                doc, truth = _patchwork(aid, sources, synth, rng, outlet, published)
            else:
                doc, truth = _derive(aid, sources[0], kind, synth, rng, outlet, published)
        # a copy appears after what it copies (1 to 72 hours after its latest source)
        latest = max(docs[t.source].published or "" for t in truth if t.source in docs)
        if latest and (doc.published or "") <= latest:
            when = datetime.fromisoformat(latest) + timedelta(hours=rng.randint(1, 72))
            doc.published = when.isoformat()
        docs[aid] = doc
        derived_ids.append(aid)
        if len(derived_ids) > 200:  # only the latest derived articles are chained from
            docs.pop(derived_ids[-201], None)
        yield doc, truth


def _paragraphs(sents: list[str], rng: random.Random) -> list[list[str]]:
    paras: list[list[str]] = []
    i = 0
    while i < len(sents):
        k = rng.randint(1, 3)
        paras.append(sents[i : i + k])
        i += k
    return paras


def _derive(
    aid: str,
    src: Doc,
    kind: str,
    synth: SentenceSynth,
    rng: random.Random,
    outlet: str,
    published: str,
) -> tuple[Doc, list[Truth]]:
    src_sents = [s for p in src.paragraphs for s in p]
    if kind == "partial":
        start = rng.randrange(max(1, len(src_sents) - 4))
        taken = src_sents[start : start + rng.randint(3, 6)]
        own = synth.sentences(rng.randint(6, 12))
        cut = rng.randrange(len(own))
        sents = own[:cut] + taken + own[cut:]
        pairs = [(s, s) for s in taken]
    elif kind == "spun":
        spun = [_spin(s, rng) for s in src_sents]
        sents, pairs = spun, list(zip(src_sents, spun, strict=True))
    elif kind == "shuffled":
        sents = list(src_sents)
        rng.shuffle(sents)
        pairs = [(s, s) for s in src_sents]
    else:  # verbatim
        sents, pairs = list(src_sents), [(s, s) for s in src_sents]
    doc = Doc(
        aid,
        src.title if kind != "partial" else synth.sentences(1)[0].rstrip("."),
        _paragraphs(sents, rng),
        outlet,
        published,
    )
    return doc, [Truth(src.id, aid, kind, pairs)]


def _patchwork(
    aid: str,
    sources: list[Doc],
    synth: SentenceSynth,
    rng: random.Random,
    outlet: str,
    published: str,
) -> tuple[Doc, list[Truth]]:
    sents: list[str] = []
    truths: list[Truth] = []
    for src in sources:
        src_sents = [s for p in src.paragraphs for s in p]
        start = rng.randrange(max(1, len(src_sents) - 3))
        taken = [_spin(s, rng) if rng.random() < 0.3 else s for s in src_sents[start : start + 3]]
        truths.append(
            Truth(
                src.id,
                aid,
                "patchwork",
                list(zip(src_sents[start : start + 3], taken, strict=True)),
            )
        )
        sents.extend(taken)
        sents.extend(synth.sentences(rng.randint(1, 2)))  # inserted material
    return Doc(
        aid, synth.sentences(1)[0].rstrip("."), _paragraphs(sents, rng), outlet, published
    ), truths


def _locate(
    doc_sents: list[tuple[int, int, str]], sentence: str, used: set[int]
) -> tuple[int, int] | None:
    for k, (s, e, text) in enumerate(doc_sents):
        if k not in used and text == sentence:
            used.add(k)
            return s, e
    return None


def write(n_articles: int, out: Path, seed: int = 7, resample: float = 0.5) -> dict[str, object]:
    """Writes the corpus, passim's input and the truth; returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    # sources' sentence spans, rendered again on demand (keeping every article's spans
    # would hold the whole corpus twice at 10^6 articles)
    kept: dict[str, Doc] = {}
    recent: list[str] = []
    kinds: Counter[str] = Counter()
    with (
        (out / "articles.jsonl").open("w", encoding="utf-8") as art,
        (out / "passim.jsonl").open("w", encoding="utf-8") as pas,
        (out / "truth.jsonl").open("w", encoding="utf-8") as tru,
    ):
        for doc, truths in generate(n_articles, seed, resample):
            text, spans = doc.render()
            kept[doc.id] = doc
            if truths:  # derived articles are chained from only while recent
                recent.append(doc.id)
                if len(recent) > 300:
                    kept.pop(recent.pop(0), None)
            art.write(
                json.dumps(
                    {
                        "id": doc.id,
                        "title": doc.title,
                        "text": text,
                        "outlet": doc.outlet,
                        "published": doc.published,
                    }
                )
                + "\n"
            )
            pas.write(json.dumps({"id": doc.id, "series": doc.outlet, "text": text}) + "\n")
            for t in truths:
                passages = _truth_passages(kept[t.source].render()[1], spans, t.sentences)
                kinds[t.kind] += 1
                tru.write(
                    json.dumps(
                        {
                            "source": t.source,
                            "target": t.target,
                            "kind": t.kind,
                            "passages": passages,
                        }
                    )
                    + "\n"
                )
    return {
        "articles": n_articles,
        "truth_pairs": sum(kinds.values()),
        "by_kind": dict(kinds),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _truth_passages(
    src_spans: list[tuple[int, int, str]],
    tgt_spans: list[tuple[int, int, str]],
    pairs: list[tuple[str, str]],
) -> list[list[int]]:
    used_s: set[int] = set()
    used_t: set[int] = set()
    out: list[list[int]] = []
    for s_sent, t_sent in pairs:
        s = _locate(src_spans, s_sent, used_s)
        t = _locate(tgt_spans, t_sent, used_t)
        if s and t:
            out.append([s[0], s[1], t[0], t[1]])
    # merge sentence spans that are adjacent on both sides into passages
    out.sort(key=lambda p: (p[2], p[0]))
    merged: list[list[int]] = []
    for p in out:
        if merged and 0 <= p[0] - merged[-1][1] <= 2 and 0 <= p[2] - merged[-1][3] <= 2:
            merged[-1][1], merged[-1][3] = p[1], p[3]
        else:
            merged.append(p)
    return merged


def accidental_sharing(texts: list[str], k: int = 8, sample: int = 2000, seed: int = 1) -> float:
    """Share of article pairs (among ``sample`` articles) sharing a ``k``-word run."""
    rng = random.Random(seed)
    chosen = rng.sample(texts, min(sample, len(texts)))
    where: dict[int, set[int]] = defaultdict(set)
    for i, text in enumerate(chosen):
        words = re.findall(r"\w+", text.lower())
        for j in range(len(words) - k + 1):
            where[hash(tuple(words[j : j + k]))].add(i)
    sharing: set[tuple[int, int]] = set()
    for docs in where.values():
        if 1 < len(docs) < 50:
            ds = sorted(docs)
            sharing.update((a, b) for x, a in enumerate(ds) for b in ds[x + 1 :])
    n = len(chosen)
    return len(sharing) / (n * (n - 1) / 2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--resample", type=float, default=0.5)
    args = ap.parse_args(argv)
    stats = write(args.articles, args.out, args.seed, args.resample)
    truth_targets = set()
    with (args.out / "truth.jsonl").open() as fh:
        for line in fh:
            truth_targets.add(json.loads(line)["target"])
    base_texts = []
    with (args.out / "articles.jsonl").open() as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["id"] not in truth_targets:
                base_texts.append(rec["text"])
            if len(base_texts) >= 3000:
                break
    real = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(BBC.glob("*/*.txt"))]
    stats["accidental_8word_pair_rate_synthetic"] = round(accidental_sharing(base_texts), 6)
    stats["accidental_8word_pair_rate_real_bbc"] = round(accidental_sharing(real), 6)
    json.dump(stats, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Provenance at scale: origin, evidence, credit and chains for 100,000 reusing pairs.

Builds the pairs from ``bench/corpus.py`` (synthetic news with planted reuse and
character-level truth), then times ``wiretrace.analyze.provenance.attribute_all`` on
them, as ``Collection.detect`` calls it after detection:

1. ``corpus.generate(--articles)`` gives articles and their planted pairs (verbatim,
   partial, spun, shuffled, patchwork, chains, reprint floods) with passages.
2. Spun passages get their edits (a word diff of the two sides, typed alias / synonym /
   other from the corpus's own swap list), so the alias-direction signal has work.
3. Every article gets provenance metadata: origins half the time an agency's credit,
   dateline and byline; times aware, naive or missing; reusers credit the source, credit
   another agency, credit nobody, or link to the source's URL.
4. Up to ``--pairs``, each planted pair whose source is no reuser itself is multiplied by
   reprints: a new target with the same copied text under its own header line
   (boilerplate), outlet, time and credit (so that most articles are distinct texts, as in a real
   collection, and token caches do not flatter the figure). Half the pairs are given
   the wrong way round.
5. ``attribute_all`` runs on all of them (orientation, evidence, credit, coverage, the
   collection-level signals, closing open triangles with the alignment kernel, chains).

Step 5 runs once per ``--workers`` value (default ``1,2``: in-process and a pool of two
processes over the connected groups of pairs, ``provenance.workers``; pooled runs go
first, so that their forked workers do not inherit caches an in-process run warmed);
the results must be equal. Prints each run's wall time, CPU (this process and its workers), pairs/s,
peak memory (RSS of this process, before and after; the largest worker's) and, as a
sanity check, the share of pairs oriented like the planted truth.

Run: ``python bench/bench_provenance.py --pairs 100000``
"""

from __future__ import annotations

import argparse
import difflib
import os
import random
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from wiretrace.analyze.patchwork import patchwork
from wiretrace.analyze.provenance import attribute_all
from wiretrace.models import Article, Edit, Passage, ReusePair, Span
from wiretrace.settings import Settings
from wiretrace.text.aliases import AliasTable

AGENCIES = ("Reuters", "AFP", "AP", "PA Media")
ALIASES = {("US", "United States"), ("UK", "Britain"), ("Mr Blair", "Tony Blair"),
           ("Labour", "the Labour Party"), ("Tories", "Conservatives")}  # fmt: skip
SYNONYMS = {(a, b) for a, b in corpus.SPIN_SWAPS} - ALIASES


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _edits(s_text: str, t_text: str, s0: int, t0: int) -> tuple[Edit, ...]:
    """Word-level edits between two passage texts (absolute offsets)."""
    sw = [(m.start(), m.end()) for m in corpus.re.finditer(r"\S+", s_text)]
    tw = [(m.start(), m.end()) for m in corpus.re.finditer(r"\S+", t_text)]
    a = [s_text[x:y] for x, y in sw]
    b = [t_text[x:y] for x, y in tw]
    out: list[Edit] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        ss = sw[i1][0] if i1 < len(sw) else len(s_text)
        se = sw[i2 - 1][1] if i2 > i1 else ss
        ts = tw[j1][0] if j1 < len(tw) else len(t_text)
        te = tw[j2 - 1][1] if j2 > j1 else ts
        x, y = s_text[ss:se], t_text[ts:te]
        core = (x.strip(".,;:"), y.strip(".,;:"))
        kind = "alias" if core in ALIASES else "synonym" if core in SYNONYMS else "other"
        kind_op = "insert" if not x else "delete" if not y else "replace"
        out.append(Edit(kind_op, s0 + ss, s0 + se, t0 + ts, t0 + te, x, y, kind))  # type: ignore[arg-type]
    return tuple(out)


def _when(rng: random.Random, base: datetime) -> datetime | None:
    r = rng.random()
    if r < 0.2:
        return None
    if r < 0.4:
        return base.replace(tzinfo=None)
    return base


def _origin_article(doc: corpus.Doc, text: str, rng: random.Random) -> Article:
    published = datetime.fromisoformat(doc.published) if doc.published else None
    url = f"https://{doc.outlet.lower().replace(' ', '')}.example/{doc.id}"
    meta: dict[str, object] = {}
    if rng.random() < 0.7:
        agency = rng.choice(AGENCIES)
        meta = {"credits": (agency,), "dateline": "LONDON", "byline": f"Anna Keller, {agency}"}
    return Article(
        id=doc.id,
        text=text,
        title=doc.title,
        outlet=doc.outlet,
        url=url,
        published=_when(rng, published) if published else None,
        **meta,  # type: ignore[arg-type]
    )


def _reuser_article(
    aid: str, text: str, title: str, source: Article, rng: random.Random, lag: float
) -> Article:
    base = (source.published or datetime(2024, 6, 1)).replace(tzinfo=UTC)
    published = _when(rng, base + timedelta(hours=lag))
    r = rng.random()
    credits: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    if r < 0.4:
        credits = source.credits[:1] or ((source.outlet,) if source.outlet else ())
    elif r < 0.5 and source.url:
        links = (source.url,)
    elif r < 0.65:
        credits = (rng.choice(AGENCIES),)
    outlet = rng.choice(corpus.OUTLETS)
    return Article(
        id=aid,
        text=text,
        title=title,
        outlet=outlet,
        url=f"https://{outlet.lower().replace(' ', '')}.example/{aid}",
        published=published,
        byline=f"{outlet} staff" if rng.random() < 0.5 else None,
        credits=credits,
        links=links,
    )


def aid_of(target: str, variant: int) -> str:
    return target if variant == 0 else f"{target}~{variant}"


def build(
    n_pairs: int, n_articles: int, seed: int
) -> tuple[dict[str, Article], list[ReusePair], dict[frozenset[str], str]]:
    """The articles (id -> Article), the reusing pairs (half given reversed) and each
    pair's planted source."""
    rng = random.Random(seed)
    synth = corpus.SentenceSynth(corpus.BBC, 0.5, seed + 1)
    docs: dict[str, tuple[corpus.Doc, str, list[tuple[int, int, str]]]] = {}
    planted: list[tuple[str, str, list[list[int]]]] = []
    for doc, truths in corpus.generate(n_articles, seed):
        text, spans = doc.render()
        docs[doc.id] = (doc, text, spans)
        for t in truths:
            passages = corpus._truth_passages(docs[t.source][2], spans, t.sentences)
            if passages:
                planted.append((t.source, t.target, passages))
    articles: dict[str, Article] = {}

    def origin(aid: str) -> Article:
        if aid not in articles:
            doc, text, _ = docs[aid]
            articles[aid] = _origin_article(doc, text, rng)
        return articles[aid]

    reusers = {t for _, t, _ in planted}
    pairs: list[ReusePair] = []
    planted_source: dict[frozenset[str], str] = {}
    # planted pairs first, then reprints of those whose source is no reuser itself
    plan = [(s, t, p, 0) for s, t, p in planted]
    multipliable = [(s, t, p) for s, t, p in planted if s not in reusers]
    v = 1
    while len(plan) < n_pairs and multipliable:
        for s, t, p in multipliable:
            if len(plan) >= n_pairs:
                break
            plan.append((s, t, p, v))
        v += 1
    for s_id, t_id, spans, variant in plan:
        src = origin(s_id)
        t_doc, t_text, _ = docs[t_id]
        # a reprint's own header line (boilerplate: out of word counts) makes its text
        # distinct from every other reprint's, as real pages are
        head = "" if variant == 0 else f"{aid_of(t_id, variant)} | " + synth.sentences(1)[0]
        lead = head + "\n\n" if head else ""
        text = lead + t_text
        aid = aid_of(t_id, variant)
        if aid not in articles:
            articles[aid] = _reuser_article(
                aid, text, t_doc.title, src, rng, lag=rng.uniform(0.3, 30)
            ).with_(excluded=(Span(0, len(head), "header"),) if head else ())
        tgt = articles[aid]
        shift = len(lead)
        passages = []
        for s0, s1, t0, t1 in spans:
            s_text, t_part = src.text[s0:s1], tgt.text[t0 + shift : t1 + shift]
            edits = () if s_text == t_part else _edits(s_text, t_part, s0, t0 + shift)
            passages.append(Passage(s0, s1, t0 + shift, t1 + shift, s_text, t_part, 0.9, edits))
        pair = ReusePair(src.id, tgt.id, tuple(passages))
        planted_source[frozenset((src.id, tgt.id))] = src.id
        if rng.random() < 0.5:  # detection's provisional order is not the origin's
            pair = ReusePair(tgt.id, src.id, tuple(x.swapped() for x in passages))
        pairs.append(pair)
    return articles, pairs, planted_source


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed_run(
    raw: list[ReusePair],
    articles: dict[str, Article],
    settings: Settings,
    aliases: AliasTable,
    workers: int,
) -> list[ReusePair]:
    """One ``attribute_all`` run with ``provenance.workers`` = ``workers``; prints wall
    time, CPU (this process and its workers) and pairs/s."""
    settings = settings.with_overrides({"provenance.workers": workers})
    t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    pairs = attribute_all(raw, articles, settings, aliases)
    t1, c1, k1 = time.perf_counter(), time.process_time(), _children_cpu()
    seconds = t1 - t0
    print(
        f"attribute_all, {workers} worker(s): {len(raw):,} pairs in {seconds:.1f} s "
        f"({c1 - c0:.1f} s CPU here + {k1 - k0:.1f} s in workers; load average "
        f"{os.getloadavg()[0]:.1f}) = {len(raw) / seconds:,.0f} pairs/s"
    )
    return pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--pairs", type=int, default=100_000)
    ap.add_argument("--articles", type=int, default=20_000, help="corpus.py articles to draw from")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--patchwork", action="store_true", help="also time the patchwork maps")
    ap.add_argument(
        "--no-close",
        action="store_true",
        help="provenance.close_triangle_words = 0: attribution and chains without closing "
        "open triangles (their share of the time)",
    )
    ap.add_argument(
        "--workers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 2],
        help="provenance.workers for each run, comma-separated (default 1,2: in-process, "
        "then a pool of two over the connected groups; results compared)",
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    articles, raw, planted_source = build(args.pairs, args.articles, args.seed)
    t1 = time.perf_counter()
    n_passages = sum(len(p.passages) for p in raw)
    n_edits = sum(len(x.edits) for p in raw for x in p.passages)
    print(
        f"built {len(raw):,} pairs ({n_passages:,} passages, {n_edits:,} edits) over "
        f"{len(articles):,} articles in {t1 - t0:.1f} s; RSS {_rss_mb():.0f} MB"
    )
    settings, aliases = Settings(), AliasTable.load()
    if args.no_close:
        settings = settings.with_overrides({"provenance.close_triangle_words": 0})
    rss_before, peak_before = _rss_mb(), _peak_mb()
    runs: dict[int, list[ReusePair]] = {}
    # Pooled runs first: forked workers would inherit the caches an in-process run warms.
    for workers in sorted(args.workers, key=lambda w: w == 1):
        runs[workers] = _timed_run(raw, articles, settings, aliases, workers)
    first, pairs = next(iter(runs.items()))
    for workers, other in runs.items():
        if other != pairs:
            print(f"MISMATCH: {workers} workers gave another result than {first}")
            return 1
    if len(runs) > 1:
        print(f"same result (pairs, order, evidence) with {sorted(runs)} workers")
    credit = Counter(p.credit for p in pairs)
    kept_planted = [p for p in pairs if frozenset((p.source, p.target)) in planted_source]
    right = sum(
        1 for p in kept_planted if planted_source[frozenset((p.source, p.target))] == p.source
    )
    print(
        f"{len(pairs):,} pairs kept ({len(pairs) - len(raw):+,} from closed triangles and "
        f"chains); credit {dict(credit)}"
    )
    print(
        f"memory: RSS {rss_before:.0f} MB before, {_rss_mb():.0f} MB after; peak RSS "
        f"{max(peak_before, _peak_mb()):.0f} MB (generation included), largest worker "
        f"{_children_peak_mb():.0f} MB"
    )
    print(
        f"oriented as planted: {right / max(1, len(kept_planted)):.3f} of the "
        f"{len(kept_planted):,} planted pairs kept (synthetic metadata: a sanity check)"
    )
    if args.patchwork:
        by_target: dict[str, list[ReusePair]] = {}
        for p in pairs:
            by_target.setdefault(p.target, []).append(p)
        t4 = time.perf_counter()
        for aid, mine in by_target.items():
            patchwork(articles[aid], mine, settings=settings)
        t5 = time.perf_counter()
        print(
            f"patchwork maps: {len(by_target):,} reusing articles in {t5 - t4:.1f} s = "
            f"{len(by_target) / (t5 - t4):,.0f} articles/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

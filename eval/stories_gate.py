"""The stories and facts gate (issue 6): scores on real articles against pinned floors.

Usage (from the repository root)::

    python eval/stories_gate.py                           # table; exit 1 below a floor
    python eval/stories_gate.py --update-readme README.md # and rewrite the README section

Stories: ``analyze.stories.StoryAssigner`` (default settings, then ``merge``) over
``../shared/data/wikiref/WikiRef220`` (220 real articles from many outlets, labelled by
topic in the file name), scored with B-cubed precision, recall and F1 against the
labels: over the five main topics, over all articles, and within each single-event topic
(recall: does the event land in one story?). Facts: ``analyze.facts.extract_facts`` on
the hand-labelled articles of ``tests/labels/facts_truth.json`` (numbers and dates:
precision and recall of the labelled spans). Floors: ``eval/stories_baseline.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

EVAL_DIR = Path(__file__).resolve().parent
REPO = EVAL_DIR.parent
SHARED = REPO.parent / "shared"
WIKIREF = SHARED / "data" / "wikiref" / "WikiRef220"
FACTS_TRUTH = REPO / "tests" / "labels" / "facts_truth.json"
BASELINE = EVAL_DIR / "stories_baseline.json"
MAIN_TOPICS = ("ParisAttacks", "malaysia.airlines.flight", "premier.league",
               "samsung.galaxy.s", "michelle.obama")  # fmt: skip
SINGLE_EVENT = {"paris_recall": "ParisAttacks", "mh370_recall": "malaysia.airlines.flight"}

if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

from wiretrace.analyze.facts import extract_facts  # noqa: E402
from wiretrace.analyze.stories import StoryAssigner, bcubed  # noqa: E402
from wiretrace.models import Article, Span  # noqa: E402

__all__ = ["fact_scores", "label", "load_wikiref", "render_markdown", "story_scores"]


def label(stem: str) -> str:
    """A WikiRef file's topic: its name without trailing digits, spaces, brackets, dots."""
    return re.sub(r"[\d\s().]+$", "", stem)


def load_wikiref() -> list[Article]:
    """The 220 articles; the first line is the title (kept out of the body)."""
    articles = []
    for path in sorted(WIKIREF.glob("*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
        first = text.split("\n", 1)[0]
        articles.append(Article(id=path.stem, text=text, title=first.strip(),
                                excluded=(Span(0, len(first), "title"),)))  # fmt: skip
    return articles


def story_scores(articles: list[Article] | None = None) -> dict[str, float]:
    """B-cubed figures of the default story assignment on WikiRef220."""
    articles = articles if articles is not None else load_wikiref()
    labels = {a.id: label(a.id) for a in articles}
    assigner = StoryAssigner()
    assigner.assign(articles)
    assigner.merge()
    of = assigner.of_article
    main = {a: s for a, s in of.items() if labels[a] in MAIN_TOPICS}
    p, r, f = bcubed(main, labels)
    pa, ra, fa = bcubed(of, labels)
    out = {"main_topics_precision": p, "main_topics_recall": r, "main_topics_f1": f,
           "all_precision": pa, "all_recall": ra, "all_f1": fa,
           "articles": float(len(articles)), "stories": float(len(set(of.values())))}  # fmt: skip
    for key, topic in SINGLE_EVENT.items():
        within = {a: s for a, s in of.items() if labels[a] == topic}
        out[key] = bcubed(within, labels)[1]
    return out


def _fact_article(rel: str) -> Article:
    base = SHARED / "data" if rel.startswith("bbc-news") else SHARED
    text = (base / rel).read_text(encoding="utf-8")
    if "seeds/000" in rel:
        excluded = (Span(0, text.index("CARACAS"), "header"),
                    Span(text.index("Copyright applies"), len(text), "footer"))  # fmt: skip
    elif "seeds/003" in rel:
        excluded = (Span(0, text.index("Russian aircraft arrived"), "header"),
                    Span(text.index("Latest News"), len(text), "navigation"))  # fmt: skip
    else:
        excluded = (Span(0, text.index("\n"), "title"),)
    return Article(id=rel, text=text, excluded=excluded)


def _locate(text: str, needles: list[str], start: int) -> list[tuple[int, int]]:
    spans, pos = [], start
    for needle in needles:
        at = text.index(needle, pos)
        spans.append((at, at + len(needle)))
        pos = at + 1
    return spans


Span3 = tuple[int, int, float | None]


def _matches(f: Span3, t: Span3) -> bool:
    overlap = f[0] < t[1] and t[0] < f[1]
    return overlap and (t[2] is None or (f[2] is not None
                                         and abs(f[2] - t[2]) < 1e-6 * max(1, t[2])))  # fmt: skip


def fact_scores() -> dict[str, float]:
    """Precision and recall of numbers and dates against the hand labels (a found
    span is right when it overlaps a labelled one, with the same value for numbers)."""
    truth = json.loads(FACTS_TRUTH.read_text("utf-8"))
    totals = {"numbers": [0, 0, 0, 0], "dates": [0, 0, 0, 0]}
    for rel, labels in truth["articles"].items():
        art = _fact_article(rel)
        body_start = art.excluded[0].end if art.excluded[0].start == 0 else 0
        # a reference date keeps named days (the labels judge detection, not resolution)
        mentions = extract_facts(art, reference=date(2005, 3, 1))
        found = {
            "numbers": [(m.start, m.end, m.number) for m in mentions if m.kind == "quantity"],
            "dates": [(m.start, m.end, None) for m in mentions if m.kind == "date"],
        }
        spans = _locate(art.text, [n for n, _ in labels["numbers"]], body_start)
        true = {"numbers": [(s, e, v) for (s, e), (_, v) in zip(spans, labels["numbers"],
                                                               strict=True)],
                "dates": [(s, e, None) for s, e in
                          _locate(art.text, labels["dates"], body_start)]}  # fmt: skip
        for key, t in totals.items():
            t[0] += sum(1 for f in found[key] if any(_matches(f, x) for x in true[key]))
            t[1] += len(found[key])
            t[2] += sum(1 for x in true[key] if any(_matches(f, x) for f in found[key]))
            t[3] += len(true[key])
    out: dict[str, float] = {}
    for key, (tp_f, n_f, tp_t, n_t) in totals.items():
        out[f"{key}_precision"] = tp_f / max(n_f, 1)
        out[f"{key}_recall"] = tp_t / max(n_t, 1)
        out[f"{key}_labelled"] = float(n_t)
    return out


def floors() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(BASELINE.read_text("utf-8"))["floors"]
    return data


def render_markdown(scores: dict[str, float]) -> str:
    """The README section: the figures against their floors."""
    lines = [
        f"Stories on WikiRef220 ({int(scores['articles'])} real articles, 5 main topics): "
        f"{int(scores['stories'])} stories; B-cubed over the main topics P "
        f"{scores['main_topics_precision']:.3f} R {scores['main_topics_recall']:.3f} F1 "
        f"{scores['main_topics_f1']:.3f}; over all articles P {scores['all_precision']:.3f} "
        f"R {scores['all_recall']:.3f} F1 {scores['all_f1']:.3f}. Facts on "
        f"{int(scores['numbers_labelled'])} labelled numbers and "
        f"{int(scores['dates_labelled'])} dates (`tests/labels/facts_truth.json`). Gate: "
        "`python eval/stories_gate.py`; figures written by "
        "`python eval/stories_gate.py --update-readme README.md`.",
        "",
        "| measure | value | floor |",
        "|---|---:|---:|",
    ]
    for key, floor in floors().items():
        lines.append(f"| {floor['label']} | {scores[key]:.3f} | {floor['min']:.2f} |")
    return "\n".join(lines) + "\n"


def update_readme(readme: Path, block: str) -> None:
    """Replace the text between ``<!-- stories:start -->`` and ``<!-- stories:end -->``."""
    text = readme.read_text("utf-8")
    pattern = re.compile(r"(<!-- stories:start -->\n).*?(<!-- stories:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme}: no <!-- stories:start --> ... <!-- stories:end --> markers")
    readme.write_text(pattern.sub(lambda m: m.group(1) + block + m.group(2), text), "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update-readme", type=Path, default=None, metavar="README")
    args = ap.parse_args(argv)
    scores = {**story_scores(), **fact_scores()}
    block = render_markdown(scores)
    print(block)
    failed = [k for k, f in floors().items() if scores[k] < f["min"]]
    if args.update_readme is not None:
        update_readme(args.update_readme, block)
    if failed:
        print("below the floor: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

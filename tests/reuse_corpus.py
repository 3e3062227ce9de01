"""A small collection with planted reuse, built from the BBC articles at test time:
plain articles, verbatim reprints, a partial copy, a spun copy and a copy of that copy
(a chain), a patchwork of two sources, and a reprint flood (one story reprinted by many
outlets with small edits). Records are table rows (id, title, text, outlet, published)
written as JSON Lines, wiretrace's table input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"

Record = dict[str, Any]


def bbc(rel: str) -> tuple[str, list[str]]:
    """Title and body paragraphs of one BBC article."""
    raw = (BBC / rel).read_text(encoding="utf-8", errors="replace")
    title, _, body = raw.partition("\n")
    return title.strip(), [p.strip() for p in body.split("\n") if p.strip()]


def record(id: str, title: str, paragraphs: list[str], outlet: str, day: int) -> Record:
    return {
        "id": id,
        "title": title,
        "text": "\n\n".join(paragraphs),
        "outlet": outlet,
        "published": f"2005-03-{day:02d}T09:00:00+00:00",
    }


def spin(paragraph: str) -> str:
    """Word swaps a rewriter makes (synonyms, a name variant)."""
    for a, b in ((" said ", " stated "), (" firm ", " company "), (" rise ", " increase ")):
        paragraph = paragraph.replace(a, b)
    return paragraph


def planted() -> list[Record]:
    """About 40 articles with every kind of reuse, in no particular order."""
    out: list[Record] = []
    plain = [f"{s}/{n:03d}.txt" for s in ("business", "tech", "sport", "entertainment")
             for n in range(20, 28)]
    for k, rel in enumerate(plain):
        if not (BBC / rel).is_file():
            continue
        title, paras = bbc(rel)
        out.append(record(f"plain/{k:02d}", title, paras, f"Outlet {k % 5}", 1 + k % 20))
    title, paras = bbc("business/001.txt")
    out.append(record("wire/001", title, paras, "Wire", 1))
    out.append(record("reprint/001a", title, paras, "Daily A", 2))
    out.append(record("reprint/001b", "Time Warner profits up", paras, "Daily B", 3))
    t2, p2 = bbc("business/002.txt")
    out.append(record("wire/002", t2, p2, "Wire", 2))
    t5, p5 = bbc("tech/005.txt")
    out.append(record("partial/002", t5, p5[:2] + p2[1:4] + p5[2:], "Daily C", 4))
    t10, p10 = bbc("sport/010.txt")
    out.append(record("wire/010", t10, p10, "Wire", 3))
    spun = [spin(p) for p in p10]
    out.append(record("spun/010", t10, spun, "Daily D", 5))
    out.append(record("chain/010", "A sports story", spun[:-1], "Daily E", 7))
    t3, p3 = bbc("entertainment/003.txt")
    t4, p4 = bbc("business/004.txt")
    out.append(record("wire/003", t3, p3, "Wire", 4))
    out.append(record("wire/004", t4, p4, "Wire", 5))
    own = "Readers wrote in to say they had followed the matter closely for several years."
    out.append(record("patch/34", "Roundup", [p3[1], own, p4[2], p3[2]], "Daily F", 8))
    return out


def flood(copies: int, base: str = "entertainment/005.txt") -> list[Record]:
    """One wire story and ``copies`` reprints, each with its own headline, one word
    changed in a different place, and a footer its outlet puts under every article."""
    title, paras = bbc(base)
    out = [record("flood/origin", title, paras, "Wire", 1)]
    words = "\n\n".join(paras).split(" ")
    for k in range(copies):
        edited = list(words)
        edited[5 + (k * 7) % (len(words) - 10)] = "indeed"
        out.append({
            "id": f"flood/{k:03d}",
            "title": f"{title} ({k})",
            "text": " ".join(edited),
            "outlet": f"Outlet {k % 3}",
            "published": f"2005-03-{2 + k % 20:02d}T10:{k % 60:02d}:00+00:00",
        })
    return out


def write_jsonl(path: Path, records: list[Record]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    return path

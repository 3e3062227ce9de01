"""Build a small corpus in the official PAN text-alignment layout from real BBC articles.

The corpus (``build_pan_corpus(root)``) has ``src/``, ``susp/``, a ``pairs`` file and
truth XML in three obfuscation folders:

- ``02-no-obfuscation``: a run of consecutive sentences of the source document copied
  verbatim into an unrelated host article (as its own paragraph, or after a sentence
  inside a paragraph);
- ``03-random-obfuscation``: the same, but the copied words go through PAN-style random
  operations (adjacent words swapped, words replaced by words of other articles, words
  deleted, words inserted), each applied to a few percent of the words;
- ``01-no-plagiarism``: a suspicious document paired with a source it does not use
  (some of these suspicious documents do reuse another source).

Truth offsets are exact character offsets into the files as written (UTF-8, ``\\n`` line
ends, read back with ``newline=""``). Base articles are chosen so that no two share a
sentence (the BBC reuses its own copy; such pairs would be real, unlabelled reuse).
Everything is derived from the BBC text and a seed: nothing is hand-typed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

SHARED = Path(__file__).resolve().parents[2] / "shared"
BBC = SHARED / "data" / "bbc-news"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_FOLD = re.compile(r"\W+")


@dataclass
class Case:
    this_offset: int
    this_length: int
    source_offset: int
    source_length: int


@dataclass
class BuiltPair:
    suspicious: str
    source: str
    folder: str
    cases: list[Case] = field(default_factory=list)


@dataclass
class BuiltCorpus:
    root: Path
    pairs: list[BuiltPair]

    def folder_pairs(self, folder: str) -> list[BuiltPair]:
        return [p for p in self.pairs if p.folder == folder]


def _bodies() -> list[str]:
    """BBC article bodies (title line dropped), in a stable order, pairwise sharing no
    sentence and none shorter than six sentences."""
    seen: set[str] = set()
    out: list[str] = []
    for path in sorted(BBC.glob("*/*.txt")):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        body = text.split("\n", 1)[1].strip() if "\n" in text else ""
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        sentences = [s for p in paragraphs for s in _SENTENCE_END.split(p)]
        keys = {_FOLD.sub(" ", s.lower()).strip() for s in sentences}
        keys = {k for k in keys if len(k) > 25}
        if len(sentences) < 6 or keys & seen:
            continue
        seen |= keys
        out.append("\n\n".join(paragraphs))
    return out


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of ``text``; paragraphs never join two sentences."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in text.split("\n\n"):
        start = pos
        for piece in _SENTENCE_END.split(para):
            offset = text.index(piece, start)
            spans.append((offset, offset + len(piece)))
            start = offset + len(piece)
        pos += len(para) + 2
    return spans


def _pick_run(text: str, rng: random.Random, min_words: int) -> tuple[int, int]:
    """A random run of two or more consecutive sentences of at least ``min_words`` words
    (PAN cases are passages, not phrases; tables of figures give tiny 'sentences')."""
    spans = _sentences(text)
    for _ in range(100):
        first = rng.randrange(0, len(spans) - 1)
        last = first + 1
        while last < len(spans) and len(text[spans[first][0] : spans[last][1]].split()) < min_words:
            last += 1
        if last < len(spans):
            return spans[first][0], spans[last][1]
    raise RuntimeError("no run of sentences long enough")


def _obfuscate(words: list[str], vocab: list[str], rng: random.Random, rate: float) -> list[str]:
    """PAN-style random obfuscation: each operation touches about ``rate`` of the words."""
    out = list(words)
    n_ops = max(1, round(rate * len(out)))
    for _ in range(n_ops):  # swap two adjacent words
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    for _ in range(n_ops):  # replace a word
        out[rng.randrange(len(out))] = rng.choice(vocab)
    for _ in range(n_ops):  # delete a word
        if len(out) > 4:
            del out[rng.randrange(1, len(out) - 1)]
    for _ in range(n_ops):  # insert a word
        out.insert(rng.randrange(1, len(out)), rng.choice(vocab))
    return out


def _plant(host: str, passage: str, rng: random.Random, inline: bool) -> tuple[str, int]:
    """Insert ``passage`` into ``host``: as its own paragraph, or (``inline``) after a
    sentence inside a paragraph. Returns the new text and the passage's offset."""
    if inline:
        spans = _sentences(host)
        candidates = [end for (_, end) in spans[1:-1] if host[end : end + 2] != "\n\n"]
        if candidates:
            at = rng.choice(candidates)
            text = host[:at] + " " + passage + host[at:]
            return text, at + 1
    paragraphs = host.split("\n\n")
    k = rng.randrange(1, len(paragraphs))
    before = "\n\n".join(paragraphs[:k]) + "\n\n"
    return before + passage + "\n\n" + "\n\n".join(paragraphs[k:]), len(before)


def _write_truth(folder: Path, pair: BuiltPair, obfuscation: str) -> None:
    root = ET.Element("document", reference=pair.suspicious)
    for case in pair.cases:
        ET.SubElement(
            root,
            "feature",
            {
                "name": "plagiarism",
                "type": "artificial",
                "obfuscation": obfuscation,
                "this_language": "en",
                "this_offset": str(case.this_offset),
                "this_length": str(case.this_length),
                "source_reference": pair.source,
                "source_language": "en",
                "source_offset": str(case.source_offset),
                "source_length": str(case.source_length),
            },
        )
    name = f"{Path(pair.suspicious).stem}-{Path(pair.source).stem}.xml"
    ET.ElementTree(root).write(folder / name, encoding="utf-8", xml_declaration=True)


def build_pan_corpus(
    root: Path,
    verbatim: int = 10,
    random_obf: int = 10,
    no_plag: int = 8,
    seed: int = 13,
    rate: float = 0.06,
    min_words: int = 30,
) -> BuiltCorpus:
    """Write a PAN-layout corpus under ``root`` and return its pairs with their truth."""
    rng = random.Random(seed)
    bodies = _bodies()
    rng.shuffle(bodies)
    fresh = no_plag - no_plag // 2
    need = 2 * (verbatim + random_obf) + fresh
    if len(bodies) < need:
        raise RuntimeError(f"only {len(bodies)} independent BBC articles, need {need}")
    vocab = sorted({w for b in bodies[need:] for w in b.split() if w.isalpha()})
    (root / "src").mkdir(parents=True)
    (root / "susp").mkdir()
    folders = {
        "01-no-plagiarism": "none",
        "02-no-obfuscation": "none",
        "03-random-obfuscation": "random",
    }
    for name in folders:
        (root / name).mkdir()

    sources = bodies[: verbatim + random_obf]
    hosts = bodies[verbatim + random_obf : 2 * (verbatim + random_obf)]
    spare = bodies[2 * (verbatim + random_obf) : need]
    pairs: list[BuiltPair] = []
    for k, (source, host) in enumerate(zip(sources, hosts, strict=True)):
        src_name = f"source-document{k + 1:05d}.txt"
        susp_name = f"suspicious-document{k + 1:05d}.txt"
        (root / "src" / src_name).write_text(source, encoding="utf-8", newline="")
        s_start, s_end = _pick_run(source, rng, min_words)
        original = source[s_start:s_end].replace("\n\n", " ")
        obfuscated = k >= verbatim
        passage = (
            " ".join(_obfuscate(original.split(), vocab, rng, rate)) if obfuscated else original
        )
        text, at = _plant(host, passage, rng, inline=k % 2 == 1)
        (root / "susp" / susp_name).write_text(text, encoding="utf-8", newline="")
        pair = BuiltPair(
            susp_name,
            src_name,
            "03-random-obfuscation" if obfuscated else "02-no-obfuscation",
            [Case(at, len(passage), s_start, s_end - s_start)],
        )
        pairs.append(pair)
    # no plagiarism: fresh unrelated suspicious documents, and planted ones paired with
    # a source they do not use
    for j, body in enumerate(spare):
        k = len(sources) + j
        susp_name = f"suspicious-document{k + 1:05d}.txt"
        (root / "susp" / susp_name).write_text(body, encoding="utf-8", newline="")
        pairs.append(BuiltPair(susp_name, f"source-document{j + 1:05d}.txt", "01-no-plagiarism"))
    for j in range(no_plag // 2):
        susp = pairs[j].suspicious
        other = pairs[(j + 3) % len(sources)].source
        pairs.append(BuiltPair(susp, other, "01-no-plagiarism"))

    for pair in pairs:
        _write_truth(root / pair.folder, pair, folders[pair.folder])
    lines = [f"{p.suspicious} {p.source}\n" for p in pairs]
    (root / "pairs").write_text("".join(lines), encoding="utf-8")
    return BuiltCorpus(root=root, pairs=pairs)

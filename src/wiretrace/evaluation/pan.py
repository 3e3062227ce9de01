"""Run wiretrace on a PAN text-alignment corpus and score it (``wiretrace eval pan``).

The corpus layout is the official one of PAN 2013/2014 (e.g.
``pan13-text-alignment-test-corpus2``)::

    CORPUS/src/source-documentNNNNN.txt
    CORPUS/susp/suspicious-documentNNNNN.txt
    CORPUS/pairs                         lines "suspicious-document....txt source-document....txt"
    CORPUS/01-no-plagiarism/suspicious-documentXXXXX-source-documentYYYYY.xml   (truth)
    CORPUS/02-no-obfuscation/...  03-random-obfuscation/ ...

Every other sub-folder holding ``*.xml`` files is a truth folder; a truth file is
``<document reference="suspicious-....txt">`` with one
``<feature name="plagiarism" this_offset this_length source_reference source_offset
source_length .../>`` per case (none in ``01-no-plagiarism``). Offsets are character
offsets into the documents read as UTF-8 text without newline translation.

For each pair, :func:`run_pan` aligns the source document (source side) with the
suspicious one (target side) through :func:`wiretrace.detect.align_articles` and writes
``suspicious-documentXXXXX-source-documentYYYYY.xml`` with one
``<feature name="detected-plagiarism" .../>`` per passage, then scores the detections per
truth folder (that folder's cases against the detections of that folder's pairs) and
overall (all cases against all detections).
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from wiretrace.detect.edits import EntityLookup
from wiretrace.engines.local import worker_count
from wiretrace.errors import EngineError, IngestError, WiretraceError
from wiretrace.evaluation.pan_metrics import Annotation, Scores, evaluate
from wiretrace.models import Article
from wiretrace.progress import Progress
from wiretrace.settings import Settings

__all__ = [
    "OVERALL",
    "PanCorpus",
    "PanPair",
    "PanResult",
    "align_pan_pair",
    "detect_pan",
    "format_scores",
    "read_annotations",
    "read_corpus",
    "read_document",
    "run_pan",
    "score_pan",
    "write_detections",
]

log = logging.getLogger(__name__)

#: The row name of the scores over every truth folder together.
OVERALL = "overall"
TRUTH_TAG = "plagiarism"
DETECTION_TAG = "detected-plagiarism"


@dataclass(frozen=True, slots=True)
class PanPair:
    """One line of the ``pairs`` file: file names inside ``susp/`` and ``src/``; ``folder``
    is the truth folder holding the pair's XML (``None`` when no folder has it)."""

    suspicious: str
    source: str
    folder: str | None = None

    @property
    def xml_name(self) -> str:
        """``suspicious-documentXXXXX-source-documentYYYYY.xml``."""
        return f"{Path(self.suspicious).stem}-{Path(self.source).stem}.xml"


@dataclass(frozen=True)
class PanCorpus:
    """A PAN corpus as read: its pairs (file order) and the cases of each truth folder."""

    root: Path
    pairs: tuple[PanPair, ...]
    cases: dict[str, tuple[Annotation, ...]]  # truth folder -> its cases, folders sorted

    @property
    def folders(self) -> tuple[str, ...]:
        return tuple(self.cases)

    def source_path(self, pair: PanPair) -> Path:
        return self.root / "src" / pair.source

    def suspicious_path(self, pair: PanPair) -> Path:
        return self.root / "susp" / pair.suspicious


@dataclass(frozen=True)
class PanResult:
    """What :func:`run_pan` did: the scores (one row per truth folder, then
    :data:`OVERALL`), the number of pairs aligned and where the XML files went."""

    scores: tuple[tuple[str, Scores], ...]
    pairs: int
    out_dir: Path


def read_document(path: Path) -> str:
    """A PAN document's text: UTF-8, line ends untouched (PAN offsets count them)."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        raise IngestError(str(path), "no such file") from None
    except UnicodeDecodeError as exc:
        raise IngestError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise IngestError(str(path), f"cannot read: {exc.strerror or exc}") from None


def _int_attr(node: ET.Element, name: str, path: Path) -> int:
    raw = node.get(name)
    try:
        value = int(raw) if raw is not None else -1
    except ValueError:
        value = -1
    if value < 0:
        raise IngestError(str(path), f"feature {name}={raw!r}: expected a whole number >= 0")
    return value


def read_annotations(path: Path, tag: str) -> tuple[str, list[Annotation]]:
    """The document reference and the ``<feature name="{tag}">`` annotations of one PAN
    XML file (truth: ``tag="plagiarism"``; detections: ``"detected-plagiarism"``).
    Features without a source reference (intrinsic cases) are skipped."""
    try:
        root = SafeET.parse(path).getroot()
    except ET.ParseError as exc:
        raise IngestError(str(path), f"malformed XML: {exc}") from None
    except OSError as exc:
        raise IngestError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except DefusedXmlException as exc:  # entity declarations, external references
        raise IngestError(str(path), f"refused XML: {exc}") from None
    reference = root.get("reference")
    if root.tag != "document" or not reference:
        raise IngestError(str(path), 'expected <document reference="..."> as the root element')
    out: list[Annotation] = []
    for node in root.iter("feature"):
        if node.get("name") != tag or not node.get("source_reference"):
            continue
        out.append(
            Annotation(
                this_reference=reference,
                this_offset=_int_attr(node, "this_offset", path),
                this_length=_int_attr(node, "this_length", path),
                source_reference=str(node.get("source_reference")),
                source_offset=_int_attr(node, "source_offset", path),
                source_length=_int_attr(node, "source_length", path),
            )
        )
    return reference, out


def _read_pairs(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        raise IngestError(str(path), "no pairs file (lines 'suspicious-....txt source-....txt')")
    pairs: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(read_document(path).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise IngestError(
                f"{path}#line {number}", "expected 'suspicious-document.txt source-document.txt'"
            )
        pair = (parts[0], parts[1])
        if pair not in seen:  # a repeated line would double-count its detections
            seen.add(pair)
            pairs.append(pair)
    return pairs


def read_corpus(root: Path | str, exclude: Sequence[Path] = ()) -> PanCorpus:
    """Read the ``pairs`` file and every truth folder of a PAN corpus (documents are read
    later, when aligned; their existence is checked now). Folders in ``exclude`` (e.g.
    the output folder of this run) and folders whose first XML files hold
    ``detected-plagiarism`` features (an earlier run's output) are not truth. Raises
    :class:`IngestError` naming the missing or bad part."""
    root = Path(root)
    skip = {p.resolve() for p in exclude}
    if not root.is_dir():
        raise IngestError(str(root), "not a folder (expected a PAN corpus: src/, susp/, pairs)")
    for sub in ("src", "susp"):
        if not (root / sub).is_dir():
            raise IngestError(str(root), f"no {sub}/ folder: not a PAN text-alignment corpus")
    raw_pairs = _read_pairs(root / "pairs")
    for number, (susp, src) in enumerate(raw_pairs, 1):
        for path in (root / "susp" / susp, root / "src" / src):
            if not path.is_file():
                raise IngestError(
                    str(path), f"named by pair {number} of the pairs file: no such file"
                )
    by_xml = {PanPair(s, r).xml_name: (s, r) for s, r in raw_pairs}
    folder_of: dict[tuple[str, str], str] = {}
    cases: dict[str, tuple[Annotation, ...]] = {}
    folders = sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and p.name not in {"src", "susp"} and p.resolve() not in skip
    )
    for folder in folders:
        xmls = sorted(folder.glob("*.xml"))
        if not xmls or any(read_annotations(x, DETECTION_TAG)[1] for x in xmls[:3]):
            continue  # no XML, or detections (an earlier run's output), not truth
        found: list[Annotation] = []
        for xml in xmls:
            _, anns = read_annotations(xml, TRUTH_TAG)
            found.extend(anns)
            pair = by_xml.get(xml.name)
            if pair is None:
                log.warning("%s: truth for a pair not in the pairs file (cases still count)", xml)
            elif pair in folder_of and folder_of[pair] != folder.name:
                raise IngestError(str(xml), f"pair already has truth in {folder_of[pair]}/")
            else:
                folder_of[pair] = folder.name
        cases[folder.name] = tuple(found)
    pairs = tuple(PanPair(s, r, folder_of.get((s, r))) for s, r in raw_pairs)
    missing = sum(1 for p in pairs if p.folder is None)
    if missing:
        log.warning(
            "%s: %d pairs have no truth file; they count in the overall scores only", root, missing
        )
    return PanCorpus(root=root, pairs=pairs, cases=cases)


def align_pan_pair(
    source_text: str,
    suspicious_text: str,
    source_name: str,
    suspicious_name: str,
    settings: Settings,
    aliases: EntityLookup | None = None,
) -> list[Annotation]:
    """Detections for one pair: wiretrace's passages between the source document
    (source side) and the suspicious one (``this`` side), as PAN annotations. The
    articles carry the file stems as ids and no excluded spans (PAN documents have no
    title line or boilerplate), so offsets are character offsets into the files."""
    from wiretrace.detect import align_articles

    src = Article(id=Path(source_name).stem, text=source_text)
    susp = Article(id=Path(suspicious_name).stem, text=suspicious_text)
    passages = align_articles(src, susp, settings, aliases)
    return [
        Annotation(
            this_reference=suspicious_name,
            this_offset=p.target_start,
            this_length=p.target_end - p.target_start,
            source_reference=source_name,
            source_offset=p.source_start,
            source_length=p.source_end - p.source_start,
        )
        for p in passages
        if p.target_end > p.target_start and p.source_end > p.source_start
    ]


# -- the process pool: each worker loads settings and the alias table once ------------

_WORKER: dict[str, object] = {}


def _init_worker(settings: Settings) -> None:
    from wiretrace.text.aliases import AliasTable

    _WORKER["settings"] = settings
    _WORKER["aliases"] = AliasTable.load(tuple(settings.text.alias_files))


def _align_paths(job: tuple[str, str, str, str]) -> list[Annotation] | tuple[str, str]:
    """One pair's detections, or ``(input, reason)`` when a document cannot be read
    (returned, not raised: IngestError's two-argument constructor does not survive
    the pickling that carries exceptions back from a worker)."""
    src_path, susp_path, src_name, susp_name = job
    settings: Settings = _WORKER["settings"]  # type: ignore[assignment]
    aliases: EntityLookup = _WORKER["aliases"]  # type: ignore[assignment]
    try:
        return align_pan_pair(
            read_document(Path(src_path)),
            read_document(Path(susp_path)),
            src_name,
            susp_name,
            settings,
            aliases,
        )
    except IngestError as exc:
        return (exc.input, exc.reason)


def _checked(found: list[Annotation] | tuple[str, str]) -> list[Annotation]:
    if isinstance(found, tuple):
        raise IngestError(*found)
    return found


def detect_pan(
    corpus: PanCorpus, settings: Settings, progress: Progress | None = None
) -> Iterator[tuple[PanPair, list[Annotation]]]:
    """Detections for every pair of ``corpus``, yielded in the pairs file's order.

    Each job reads its two documents itself, so memory stays flat however large the
    corpus. Runs in-process below ``detect.parallel_min_pairs`` pairs or with one worker,
    else on ``detect.workers`` spawned processes (0: one per core).
    """
    jobs = [
        (str(corpus.source_path(p)), str(corpus.suspicious_path(p)), p.source, p.suspicious)
        for p in corpus.pairs
    ]
    workers = worker_count(settings)
    if progress is not None:
        progress.begin("align pairs", total=len(jobs))
    try:
        if len(jobs) < settings.detect.parallel_min_pairs or workers <= 1:
            _init_worker(settings)
            for pair, job in zip(corpus.pairs, jobs, strict=True):
                yield pair, _checked(_align_paths(job))
                if progress is not None:
                    progress.advance()
            return
        chunk = max(1, min(32, len(jobs) // (workers * 8)))
        ctx = multiprocessing.get_context("spawn")  # no fork of a parent's threads
        try:
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(settings,)
            ) as pool:
                for pair, found in zip(
                    corpus.pairs, pool.map(_align_paths, jobs, chunksize=chunk), strict=True
                ):
                    yield pair, _checked(found)
                    if progress is not None:
                        progress.advance()
        except BrokenProcessPool as exc:
            raise EngineError(f"eval pan: an alignment worker died ({exc})") from None
    finally:
        if progress is not None:
            progress.end()


def write_detections(out_dir: Path, pair: PanPair, detections: Sequence[Annotation]) -> Path:
    """Write one pair's detections as PAN XML (``<document reference=susp>`` with one
    ``detected-plagiarism`` feature per detection); returns the file written."""
    root = ET.Element("document", reference=pair.suspicious)
    for d in sorted(detections, key=lambda a: (a.this_offset, a.source_offset)):
        ET.SubElement(
            root,
            "feature",
            {
                "name": DETECTION_TAG,
                "this_offset": str(d.this_offset),
                "this_length": str(d.this_length),
                "source_reference": d.source_reference,
                "source_offset": str(d.source_offset),
                "source_length": str(d.source_length),
            },
        )
    ET.indent(root)
    path = out_dir / pair.xml_name
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def score_pan(
    corpus: PanCorpus, detections: dict[PanPair, list[Annotation]]
) -> tuple[tuple[str, Scores], ...]:
    """Scores per truth folder (the folder's cases against the detections of the pairs
    whose truth it holds) and :data:`OVERALL` (every case against every detection)."""
    rows: list[tuple[str, Scores]] = []
    for folder, cases in corpus.cases.items():
        dets = [d for p, found in detections.items() if p.folder == folder for d in found]
        rows.append((folder, evaluate(cases, dets)))
    everything = [c for cases in corpus.cases.values() for c in cases]
    rows.append((OVERALL, evaluate(everything, [d for f in detections.values() for d in f])))
    return tuple(rows)


def run_pan(
    corpus_dir: Path | str,
    out_dir: Path | str,
    settings: Settings,
    progress: Progress | None = None,
) -> PanResult:
    """Align every pair of the corpus, write one detection XML per pair into ``out_dir``
    (created if needed), and score the detections against the truth folders."""
    out = Path(out_dir)
    corpus = read_corpus(corpus_dir, exclude=(out,))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WiretraceError(f"{out}: cannot create the output folder: {exc}") from None
    detections: dict[PanPair, list[Annotation]] = {}
    for pair, found in detect_pan(corpus, settings, progress):
        write_detections(out, pair, found)
        detections[pair] = found
    scores = score_pan(corpus, detections)
    log.info("eval pan: %d pairs, %s", len(detections), dict(scores).get(OVERALL))
    return PanResult(scores=scores, pairs=len(detections), out_dir=out)


def format_scores(result: PanResult) -> str:
    """The scores as a plain-text table: one row per truth folder, then overall."""
    head = ("folder", "precision", "recall", "granularity", "plagdet", "cases", "detections")
    rows = [
        (
            name,
            f"{s.precision:.4f}",
            f"{s.recall:.4f}",
            f"{s.granularity:.4f}",
            f"{s.plagdet:.4f}",
            str(s.cases),
            str(s.detections),
        )
        for name, s in result.scores
    ]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in (head, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"{result.pairs} pairs; detections written to {result.out_dir}")
    return "\n".join(lines)

"""``wiretrace show A B``: one reusing pair side by side in the terminal (rich).

The view: a header (origin, confidence, credit, coverages), the evidence in words, a
colour legend of edit kinds, then one table row per passage with the source's text on
the left and the target's on the right, edits highlighted by kind (alias, synonym,
spelling, number, other; inserted and deleted words struck or underlined). Passages are
shown in the target's order; a passage with its own origin says so. Given the target's
patchwork map, the view ends with the target's shares per source and its own material
(novel sentences).
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from wiretrace.analyze.patchwork import Patchwork
from wiretrace.models import Article, Edit, Passage, ReusePair

__all__ = ["EDIT_STYLES", "pair_renderable", "render_pair"]

#: Edit kind -> rich style; the same colours as the HTML report.
EDIT_STYLES: dict[str, str] = {
    "alias": "bold black on bright_cyan",
    "synonym": "bold black on bright_yellow",
    "spelling": "bold black on bright_magenta",
    "number": "bold white on red",
    "other": "bold black on bright_green",
}
_INSERT_STYLE = "underline"
_DELETE_STYLE = "strike"


def _side_text(p: Passage, source_side: bool) -> Text:
    base = p.source_start if source_side else p.target_start
    text = Text(p.source_text if source_side else p.target_text)
    for e in p.edits:
        lo, hi = (e.source_start, e.source_end) if source_side else (e.target_start, e.target_end)
        if hi <= lo:
            continue
        style = EDIT_STYLES.get(e.kind, EDIT_STYLES["other"])
        extra = _DELETE_STYLE if e.op == "delete" else _INSERT_STYLE if e.op == "insert" else ""
        text.stylize(f"{style} {extra}".strip(), lo - base, hi - base)
    return text


def _edit_summary(edits: list[Edit]) -> Text:
    line = Text()
    for i, e in enumerate(edits):
        if i:
            line.append("; ")
        line.append(f'"{e.source_text}"' if e.source_text else "(nothing)")
        line.append(" -> ")
        line.append(f'"{e.target_text}"' if e.target_text else "(nothing)")
        line.append(f" ({e.kind})", style=EDIT_STYLES.get(e.kind, ""))
    return line


def _legend() -> Text:
    legend = Text("edits: ")
    for kind, style in EDIT_STYLES.items():
        legend.append(f" {kind} ", style=style)
        legend.append(" ")
    legend.append("inserted", style=_INSERT_STYLE)
    legend.append(" ")
    legend.append("deleted", style=_DELETE_STYLE)
    return legend


def _own_material(target: Article, work: Patchwork) -> Text:
    """The target's patchwork in brief: its share taken per source and its novel
    sentences (its own material; boilerplate never appears)."""
    out = Text()
    out.append(f"{target.id}: ", style="bold")
    out.append(f"{work.reused_share:.0%} of {work.body_words} body words taken")
    shares = sorted(work.source_shares().items(), key=lambda kv: -kv[1])
    if shares:
        out.append(" (" + ", ".join(f"{k} {v:.0%}" for k, v in shares) + ")")
    out.append(f"; own material: {len(work.novel)} sentences\n")
    for s in work.novel:
        out.append("  * ")
        out.append(s.text.replace("\n", " "))
        out.append("\n")
    return out


def pair_renderable(
    pair: ReusePair, source: Article, target: Article, work: Patchwork | None = None
) -> Group:
    """The rich renderable of :func:`render_pair` (for embedding or testing)."""
    head = Text()
    head.append(f"{target.id}", style="bold")
    head.append(f'  "{target.title or ""}"\n')
    head.append(f"reuses {pair.target_coverage:.0%} of its words from ")
    head.append(f"{source.id}", style="bold")
    head.append(f'  "{source.title or ""}"\n')
    head.append(f"({pair.source_coverage:.0%} of the source's words)   credit: ")
    credit_style = "bold green" if pair.credit == "credited" else "bold red"
    head.append(pair.credit.upper().replace("_", " "), style=credit_style)
    if pair.credited_to:
        head.append(f" (credits {', '.join(pair.credited_to)})")
    head.append(f"\norigin {pair.source} (confidence {pair.origin_confidence:.2f})")
    evidence = Text()
    for item in pair.evidence:
        evidence.append(f"  - {item}\n")
    table = Table(show_lines=True, expand=True, title=f"{len(pair.passages)} passages")
    table.add_column(f"{source.id} (source)", ratio=1, overflow="fold")
    table.add_column(f"{target.id} (target)", ratio=1, overflow="fold")
    for n, p in enumerate(pair.passages, start=1):
        left = Text()
        left.append(f"#{n} [{p.source_start}:{p.source_end}]\n", style="dim")
        left.append_text(_side_text(p, source_side=True))
        right = Text()
        right.append(f"#{n} [{p.target_start}:{p.target_end}] sim {p.similarity:.2f}\n", "dim")
        right.append_text(_side_text(p, source_side=False))
        if p.origin and p.origin != pair.source:
            right.append(f"\n(this passage's origin: {p.origin})", style="italic")
        if p.edits:
            right.append("\n")
            right.append_text(_edit_summary(list(p.edits)))
        table.add_row(left, right)
    parts: list[RenderableType] = [
        Panel(head, title="reuse pair"),
        Text("evidence:"),
        evidence,
        _legend(),
        table,
    ]
    if work is not None and work.article == target.id:
        parts.append(_own_material(target, work))
    return Group(*parts)


def render_pair(
    pair: ReusePair, a: Article, b: Article, console: Console, work: Patchwork | None = None
) -> None:
    """Print ``pair`` side by side on ``console``. ``a`` and ``b`` are the pair's two
    articles in either order (matched to ``pair.source`` and ``pair.target`` by id).
    ``work``, the target's patchwork map, adds its sources' shares and its novel
    sentences."""
    source, target = (a, b) if a.id == pair.source else (b, a)
    console.print(pair_renderable(pair, source, target, work))

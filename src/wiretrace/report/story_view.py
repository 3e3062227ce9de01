"""``wiretrace story ID`` in the terminal: a story's timeline, reuse and facts (rich)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console
from rich.table import Table
from rich.text import Text

from wiretrace.analyze.story_summary import Story
from wiretrace.models import Article

__all__ = ["render_story"]


def _when(article: Article) -> str:
    return article.published.isoformat(sep=" ", timespec="minutes") if article.published else "-"


def render_story(story: Story, articles: Mapping[str, Article], console: Console) -> None:
    """Print ``story``: header, timeline, reuse pairs inside it, entities, facts table
    (conflicts first). ``articles`` holds its members by id."""
    span = " to ".join(
        sorted({d.date().isoformat() for d in (story.start, story.end) if d is not None})
    )
    console.print(Text(f'story {story.id} "{story.title}"', style="bold"))
    n_reuse = sum(1 for *_, kind in story.links if kind == "reuse")
    console.print(
        f"published {span or 'undated'}: {len(story.articles)} articles, "
        f"{len(story.reuse)} reuse pair{'s' if len(story.reuse) != 1 else ''}, "
        f"{len(story.links) - n_reuse} independent"
    )
    console.print(_timeline(story, articles))
    if story.reuse:
        console.print(_reuse(story))
    for kind, names in story.entities.items():
        console.print(Text(f"{kind}: ", style="bold") + Text(", ".join(names[:15])))
    if story.facts:
        console.print(_facts(story))
    else:
        console.print("no fact stated by two articles")


def _timeline(story: Story, articles: Mapping[str, Article]) -> Table:
    table = Table(title="timeline", title_justify="left")
    for column in ("published", "article", "outlet / credits", "title"):
        table.add_column(column)
    for aid in story.articles:
        art = articles.get(aid)
        if art is None:
            continue
        who = ", ".join([*((art.outlet and [art.outlet]) or []), *art.credits])
        table.add_row(_when(art), Text(aid), Text(who or "-"), Text(art.title or ""))
    return table


def _reuse(story: Story) -> Table:
    table = Table(title="reuse inside the story", title_justify="left")
    for column in ("source", "target", "target's words reused", "passages", "credit"):
        table.add_column(column)
    for p in story.reuse:
        table.add_row(
            Text(p.source), Text(p.target), f"{round(p.target_coverage * 100)}%",
            str(len(p.passages)), p.credit,
        )  # fmt: skip
    return table


def _facts(story: Story) -> Table:
    table = Table(title="facts (conflicts first)", title_justify="left")
    for column in ("fact", "value", "status", "mentions"):
        table.add_column(column)
    for fact in story.facts:
        status = Text("agree", style="green") if fact.agree else Text("CONFLICT", style="red")
        mentions = "\n".join(f"{m.article}: {m.text!r}" for m in fact.mentions[:6])
        value = " / ".join(fact.values) if not fact.agree else fact.value
        table.add_row(Text(fact.fact), Text(value), status, Text(mentions))
    return table

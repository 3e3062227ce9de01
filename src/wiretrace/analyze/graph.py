"""The reuse graph: who reused whose text, at article and at outlet level.

Nodes are articles (``id``, ``title``, ``outlet``, ``published``) and outlets; edges are
directed from the origin to the reuser:

- ``reuse`` edges between articles, one per reusing pair, with ``source_coverage``,
  ``target_coverage`` (shares of body words), ``passages``, ``confidence``, ``credit``
  (``credited|uncredited|credited_elsewhere``) and ``credited`` (bool);
- ``published_by`` edges from an article to its outlet;
- ``outlet_reuse`` edges between outlets, with ``pairs`` and ``uncredited`` counts.

An article without a known outlet (no ``Article.outlet``) is grouped under the host of
its URL, else under ``"unknown"``. Node ids are ``article:<id>`` and ``outlet:<name>``,
so an article and an outlet never collide. :meth:`ReuseGraph.to_graphml` writes GraphML
(read by Gephi, networkx, igraph); :meth:`ReuseGraph.to_json` gives the node-link form.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from wiretrace.models import Article, ReusePair

__all__ = ["OutletLink", "ReuseGraph", "build_graph", "outlet_of"]

_NS = "http://graphml.graphdrawing.org/xmlns"
Value = str | int | float | bool


def outlet_of(article: Article | None) -> str:
    """The outlet an article is counted under: its outlet, its URL's host, or
    ``"unknown"``."""
    if article is None:
        return "unknown"
    if article.outlet:
        return article.outlet
    if article.url:
        host = urlsplit(article.url).hostname
        if host:
            return host.removeprefix("www.")
    return "unknown"


@dataclass(frozen=True, slots=True)
class OutletLink:
    """Outlet ``source`` had its text reused by outlet ``target`` in ``pairs`` pairs,
    ``uncredited`` of them without credit, ``credited_elsewhere`` crediting another."""

    source: str
    target: str
    pairs: int
    uncredited: int
    credited_elsewhere: int

    @property
    def credited(self) -> int:
        return self.pairs - self.uncredited - self.credited_elsewhere


@dataclass(slots=True)
class ReuseGraph:
    """Nodes: id -> attributes (``kind`` is ``article`` or ``outlet``); edges: (source
    node, target node, attributes with ``kind``)."""

    nodes: dict[str, dict[str, Value]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, Value]]] = field(default_factory=list)
    outlets: list[OutletLink] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """Node-link JSON: ``{"directed": true, "nodes": [...], "edges": [...],
        "outlets": [...]}`` (``outlets``: the outlet-level summary)."""
        return {
            "directed": True,
            "nodes": [{"id": k, **v} for k, v in self.nodes.items()],
            "edges": [{"source": s, "target": t, **a} for s, t, a in self.edges],
            "outlets": [
                {
                    "source": o.source,
                    "target": o.target,
                    "pairs": o.pairs,
                    "uncredited": o.uncredited,
                    "credited_elsewhere": o.credited_elsewhere,
                    "credited": o.credited,
                }
                for o in self.outlets
            ],
        }

    def to_graphml(self, path: str | Path) -> None:
        """Write GraphML (UTF-8) to ``path``; every attribute is declared as a ``<key>``
        with its type (string, int, double, boolean) and a default."""
        ET.register_namespace("", _NS)
        root = ET.Element(f"{{{_NS}}}graphml")
        keys: dict[tuple[str, str], str] = {}
        for domain, items in (
            ("node", list(self.nodes.values())),
            ("edge", [a for _, _, a in self.edges]),
        ):
            names: dict[str, str] = {}
            for attrs in items:
                for name, value in attrs.items():
                    names.setdefault(name, _graphml_type(value))
            for name, kind in names.items():
                key_id = f"{domain[0]}_{name}"
                keys[(domain, name)] = key_id
                key = ET.SubElement(
                    root,
                    f"{{{_NS}}}key",
                    {"id": key_id, "for": domain, "attr.name": name, "attr.type": kind},
                )
                ET.SubElement(key, f"{{{_NS}}}default").text = _default(kind)
        graph = ET.SubElement(root, f"{{{_NS}}}graph", {"id": "reuse", "edgedefault": "directed"})
        for node_id, attrs in self.nodes.items():
            node = ET.SubElement(graph, f"{{{_NS}}}node", {"id": node_id})
            _data(node, attrs, keys, "node")
        for n, (s, t, attrs) in enumerate(self.edges):
            edge = ET.SubElement(graph, f"{{{_NS}}}edge", {"id": f"e{n}", "source": s, "target": t})
            _data(edge, attrs, keys, "edge")
        ET.indent(root)
        ET.ElementTree(root).write(str(path), encoding="utf-8", xml_declaration=True)


def _graphml_type(value: Value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    return "string"


def _default(kind: str) -> str:
    return {"boolean": "false", "int": "0", "double": "0.0"}.get(kind, "")


def _data(
    element: ET.Element,
    attrs: Mapping[str, Value],
    keys: Mapping[tuple[str, str], str],
    domain: str,
) -> None:
    for name, value in attrs.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        ET.SubElement(element, f"{{{_NS}}}data", {"key": keys[(domain, name)]}).text = text


def build_graph(articles: Iterable[Article], pairs: Sequence[ReusePair]) -> ReuseGraph:
    """The reuse graph of a collection. Articles named by a pair but absent from
    ``articles`` still get a node (without metadata). Deterministic order: articles as
    given, then outlets sorted by name; edges in pair order, outlet edges sorted."""
    by_id = {a.id: a for a in articles}
    graph = ReuseGraph()
    ids = list(by_id)
    for pair in pairs:
        for x in (pair.source, pair.target):
            if x not in by_id and x not in ids:
                ids.append(x)
    outlets: set[str] = set()
    for article_id in ids:
        article = by_id.get(article_id)
        outlet = outlet_of(article)
        outlets.add(outlet)
        published = article.published.isoformat() if article and article.published else ""
        graph.nodes[f"article:{article_id}"] = {
            "kind": "article",
            "label": article_id,
            "title": (article.title or "") if article else "",
            "outlet": outlet,
            "published": published,
        }
    for outlet in sorted(outlets):
        graph.nodes[f"outlet:{outlet}"] = {"kind": "outlet", "label": outlet}
    for article_id in ids:
        graph.edges.append(
            (
                f"article:{article_id}",
                f"outlet:{outlet_of(by_id.get(article_id))}",
                {"kind": "published_by"},
            )
        )
    links: dict[tuple[str, str], list[int]] = {}
    for pair in pairs:
        graph.edges.append(
            (
                f"article:{pair.source}",
                f"article:{pair.target}",
                {
                    "kind": "reuse",
                    "source_coverage": round(pair.source_coverage, 4),
                    "target_coverage": round(pair.target_coverage, 4),
                    "passages": len(pair.passages),
                    "confidence": round(pair.origin_confidence, 3),
                    "credit": pair.credit,
                    "credited": pair.credited,
                },
            )
        )
        key = (outlet_of(by_id.get(pair.source)), outlet_of(by_id.get(pair.target)))
        counts = links.setdefault(key, [0, 0, 0])
        counts[0] += 1
        counts[1] += pair.credit == "uncredited"
        counts[2] += pair.credit == "credited_elsewhere"
    for (src, dst), (n, uncredited, elsewhere) in sorted(links.items()):
        graph.outlets.append(OutletLink(src, dst, n, uncredited, elsewhere))
        graph.edges.append(
            (
                f"outlet:{src}",
                f"outlet:{dst}",
                {"kind": "outlet_reuse", "pairs": n, "uncredited": uncredited},
            )
        )
    return graph

"""HTML ingest speed: pages per second through trafilatura, one and two worker processes.

The corpus is generated: every BBC article (../shared/data/bbc-news) wrapped in one of
three realistic page templates (a header with a menu of 15-25 links, breadcrumbs, share
buttons, scripts and JSON-LD, an article with byline and date, a "related stories" box,
a "most read" list, a cookie banner, an inline JSON state script and a multi-column footer)
(about 22 KB of HTML a page). Pages are handed to ``parse_html_many`` as bytes, as the WARC
reader and ``read_html_many`` do, so decoding is measured too.

Run: ``python bench/bench_ingest_html.py [--pages 1808] [--workers 1 2]``.
Prints one line per worker count: pages, seconds, pages/s, and the share of pages whose
extracted text is exactly the article (every paragraph kept, no page furniture added).
"""

from __future__ import annotations

import argparse
import html
import random
import time
from pathlib import Path

from wiretrace.ingest.html import HtmlItem, parse_html_many
from wiretrace.models import Article
from wiretrace.settings import IngestSettings

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"

SECTIONS = ["Home", "UK", "World", "Business", "Politics", "Tech", "Science", "Health",
            "Education", "Entertainment", "Sport", "Weather", "Travel", "Culture", "Video",
            "Audio", "Live", "Opinion", "Climate", "Money", "Cars", "Latest News",
            "Newsletters", "Podcasts", "Crosswords"]

SCRIPTS = """<script async src="https://cdn.example/analytics.js"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}
gtag('js',new Date());gtag('config','UA-000000-1');var ads={slots:['top','mpu','footer']};
</script><style>.nav{display:flex}.footer{columns:4}.share a{margin:0 4px}</style>"""


def _state_blob(rng: random.Random, titles: list[str]) -> str:
    """An inline JSON state script like the ones news sites ship (~15 KB)."""
    items = ",".join(
        f'{{"id":{rng.randrange(10**8)},"headline":"{t.replace(chr(34), "")}",'
        f'"url":"/story/{rng.randrange(10**6)}","section":"{rng.choice(SECTIONS)}",'
        f'"image":{{"src":"/img/{rng.randrange(10**6)}.jpg","w":976,"h":549}}}}'
        for t in rng.sample(titles, 80)
    )
    return f'<script id="__STATE__" type="application/json">{{"stories":[{items}]}}</script>'


def _links(rng: random.Random, titles: list[str], n: int) -> str:
    return "".join(
        f'<li><a href="/story/{rng.randrange(10**6)}">{html.escape(t)}</a></li>'
        for t in rng.sample(titles, n)
    )


def make_page(title: str, paras: list[str], titles: list[str], rng: random.Random,
              n: int) -> str:
    """One page in one of three layouts around the article text."""
    esc = html.escape(title)
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    nav = "".join(f'<li><a href="/{s.lower()}">{s}</a></li>'
                  for s in rng.sample(SECTIONS, rng.randint(15, 25)))
    date = f"2005-{n % 12 + 1:02d}-{n % 28 + 1:02d}T{n % 24:02d}:15:00+00:00"
    related = _links(rng, titles, 8)
    most_read = _links(rng, titles, 20)
    footer_cols = "".join(
        f"<div class='col'><h4>{s}</h4><ul>{_links(rng, titles, 8)}</ul></div>"
        for s in rng.sample(SECTIONS, 6)
    )
    head = f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<title>{esc} - Example News</title>
<meta property="og:site_name" content="Example News"><meta property="og:title" content="{esc}">
<meta name="author" content="Staff reporter">
<meta property="article:published_time" content="{date}">
<script type="application/ld+json">{{"@type":"NewsArticle","headline":"{esc}",
"datePublished":"{date}","publisher":{{"@type":"Organization","name":"Example News"}}}}
</script>{SCRIPTS}{_state_blob(rng, titles)}</head>"""
    header = f"""<body><div class="cookie-banner">We use cookies to improve your experience.
<button>Accept</button><button>Settings</button></div><header><a class="logo" href="/">Example
News</a><nav class="nav"><ul>{nav}</ul></nav><form action="/search"><input name="q"></form>
</header><div class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/news">News</a></div>"""
    share = ('<div class="share"><a href="#">Share on Facebook</a><a href="#">Share on X</a>'
             '<a href="#">Email</a></div>')
    layout = n % 3
    if layout == 0:
        main = (f'<main><article><h1>{esc}</h1><p class="byline">By Staff reporter</p>'
                f'<time datetime="{date}">{date[:10]}</time>{share}{body}</article>'
                f'<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside>'
                f'<aside><h2>Most read</h2><ol>{most_read}</ol></aside></main>')
    elif layout == 1:
        main = (f'<div id="content"><div class="story-body"><h1 class="story-title">{esc}</h1>'
                f'<div class="meta">Published {date[:10]}</div>{body}{share}</div>'
                f'<div class="sidebar"><h3>More on this story</h3><ul>{related}</ul>'
                f'<h3>Top stories</h3><ul>{most_read}</ul></div></div>')
    else:
        main = (f'<div class="page"><section class="headline"><h1>{esc}</h1></section>'
                f'<section class="text">{body}</section><section class="related-links">'
                f'<h2>You may also like</h2><ul>{related}</ul></section>'
                f'<div class="ad">Advertisement</div><section><h2>Popular</h2><ul>'
                f'{most_read}</ul></section></div>')
    footer = (f'<footer class="footer">{footer_cols}<p>Copyright 2005 Example News. '
              'All rights reserved.</p><a href="/terms">Terms</a> <a href="/privacy">Privacy'
              '</a></footer></body></html>')
    return head + header + main + footer


def make_corpus(pages: int, seed: int = 7) -> list[HtmlItem]:
    files = sorted(BBC.glob("*/*.txt"))
    articles = []
    for path in files:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        articles.append((path, lines[0].strip(), [p.strip() for p in lines[1:] if p.strip()]))
    titles = [a[1] for a in articles]
    rng = random.Random(seed)
    items = []
    for n in range(pages):
        path, title, paras = articles[n % len(articles)]
        page = make_page(title, paras, titles, rng, n)
        items.append(HtmlItem(html=page.encode("utf-8"), id=f"{path.parent.name}/{path.stem}#{n}",
                              source=str(path)))
    return items


def exact_share(items: list[HtmlItem], results: list[object]) -> float:
    """Share of pages whose text lines are exactly the title and the paragraphs."""
    exact = 0
    for item, result in zip(items, results, strict=True):
        if not isinstance(result, Article):
            continue
        lines = Path(item.source).read_text(encoding="utf-8", errors="replace").splitlines()
        wanted = [line.strip() for line in lines if line.strip()]
        got = result.text.split("\n")
        if got == wanted or got == wanted[1:]:
            exact += 1
    return exact / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=1808)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    items = make_corpus(args.pages)
    size = sum(len(i.html) for i in items) / len(items)
    print(f"corpus: {len(items)} pages, {size / 1024:.1f} KB a page on average")
    settings = IngestSettings()
    for workers in args.workers:
        started = time.perf_counter()
        results = list(parse_html_many(items, settings, workers=workers))
        seconds = time.perf_counter() - started
        ok = sum(isinstance(r, Article) for r in results)
        print(f"workers={workers}: {len(results)} pages ({ok} articles) in {seconds:.2f} s: "
              f"{len(results) / seconds:.0f} pages/s; exact text on "
              f"{exact_share(items, results):.1%} of pages")


if __name__ == "__main__":
    main()

"""wiretrace.report: human views of reuse (terminal side by side, one-file HTML report).

Shells call these; they take records (articles, pairs, patchworks) and never touch the
store.
"""

from wiretrace.report.html import write_html_report
from wiretrace.report.terminal import render_pair

__all__ = ["render_pair", "write_html_report"]

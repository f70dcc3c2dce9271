"""A self-contained HTML page: a table of contents, sections of text, tables and figures, images embedded as base64,
banners for problems the reader must not miss. Tables are shown as reports.formatting presents them (an estimate
and its interval in one cell, headers in words); text cells wrap at spaces, numbers never break across lines."""

from __future__ import annotations

import base64
import html
import re

import pandas as pd

from .formatting import DIGITS, present

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; } h2 { border-bottom: 1px solid #bbb; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; font-weight: 600; }
nav.toc { background: #f7f7f7; border: 1px solid #ddd; padding: 0.5em 1.2em; } nav.toc ul { margin: 0.3em 0; }
.banner { padding: 0.7em 1em; margin: 1em 0; border-radius: 4px; font-weight: 600; }
.fail { background: #b00020; color: white; } .warn { background: #fff3cd; border: 1px solid #e0c060; }
figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #555; } img { max-width: 100%; }
"""


def escape(text: str) -> str:
    return html.escape(str(text))


def banner(text: str, kind: str = "warn") -> str:
    """A coloured box: kind 'fail' (red) or 'warn' (yellow)."""
    return f'<div class="banner {kind}">{escape(text)}</div>'


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def bullets(items: list[str]) -> str:
    """An unordered list of plain-text items."""
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def table(frame: pd.DataFrame, digits: int = DIGITS, hide: tuple[str, ...] = ()) -> str:
    """An HTML table of `frame` as reports.formatting presents it (`hide`: columns left out, e.g. a code name
    beside its label); numeric cells are right-aligned and kept on one line."""
    shown, numeric = present(frame, hide, digits)
    head = "".join(f"<th>{escape(name)}</th>" for name in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f'<td class="num">{escape(value)}</td>' if name in numeric else f"<td>{escape(value)}</td>"
                         for name, value in zip(shown.columns, values)) + "</tr>\n"
        for values in shown.itertuples(index=False, name=None))
    return f'<table class="data">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody></table>'


class Figures(dict):
    """The figures of a page as they are made: name -> PNG bytes; `add` keeps one and returns its HTML."""

    def add(self, name: str, png: bytes, caption: str) -> str:
        self[name] = png
        return figure(png, caption)


def figure(png: bytes, caption: str) -> str:
    """A PNG (its bytes) embedded as base64 with its caption."""
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def slug(title: str) -> str:
    """An anchor made from a title: lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


def section(title: str, *parts: str, level: int = 2, anchor: str = "") -> str:
    """A heading and its parts; top-level sections always get an anchor (theirs, or one made from the title), so
    that the table of contents can link them."""
    anchor = anchor or (slug(title) if level == 2 else "")
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{escape(title)}</h{level}>\n" + "\n".join(parts)


_HEADING = re.compile(r'<h2 id="([^"]+)">(.*?)</h2>')


def contents(sections: list[str]) -> str:
    """A table of contents linking every top-level section."""
    items = [f'<li><a href="#{anchor}">{title}</a></li>' for part in sections for anchor, title in _HEADING.findall(part)]
    return f'<nav class="toc"><strong>Contents</strong><ul>{"".join(items)}</ul></nav>' if items else ""


def page(title: str, sections: list[str]) -> str:
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n{contents(sections)}\n"
            + "\n".join(sections) + "\n</body></html>\n")

"""A self-contained HTML page: sections of text, tables and figures, images embedded as base64, banners for
problems the reader must not miss."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; } h2 { border-bottom: 1px solid #bbb; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; } th { background: #f2f2f2; }
td:first-child, th:first-child { text-align: left; }
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


def table(frame: pd.DataFrame, digits: int = 3) -> str:
    """An HTML table with numbers rounded to `digits` significant decimals."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:.{digits}f}", na_rep="", border=0,
                         classes="data", escape=True)


def figure(path: Path, caption: str) -> str:
    """A PNG embedded as base64 with its caption."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def section(title: str, *parts: str, level: int = 2, anchor: str = "") -> str:
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{escape(title)}</h{level}>\n" + "\n".join(parts)


def page(title: str, sections: list[str]) -> str:
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n" + "\n".join(sections)
            + "\n</body></html>\n")

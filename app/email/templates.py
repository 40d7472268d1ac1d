"""Email templates: `<kind>.subject.txt`, `<kind>.txt` and optionally `<kind>.html`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

TEMPLATE_DIR = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    # Templates ship with the code: a loaded one is not checked on disk again (a stat of its
    # file per render, six per checkout flow).
    auto_reload=False,
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


def render(kind: str, context: dict) -> RenderedEmail:
    subject = _env.get_template(f"{kind}.subject.txt").render(context).strip()
    text = _env.get_template(f"{kind}.txt").render(context)
    try:
        html = _env.get_template(f"{kind}.html").render(context)
    except TemplateNotFound:
        html = None
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)

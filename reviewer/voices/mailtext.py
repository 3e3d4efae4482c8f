"""Text of review mails: the jinja2 environment, its filters, and the final tidy of a body.

Flow position: voices (used by the mailing-list reply).  Templates come from `--templates DIR`
first and the shipped `templates/` second, so a user may copy and change just one of them.
Prose is wrapped at 72 columns by the `wrap` and `hang` filters; quoted patch lines go through
`quote` untouched (never re-wrapped); `finish` strips trailing whitespace and extra blank lines.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import jinja2

from reviewer._layout import templates_dir
from reviewer.errors import InputError, UsageError

WIDTH = 72


def wrap(text: str, width: int = WIDTH) -> str:
    """Reflow prose: each paragraph (blank-line separated) filled to `width` columns."""
    paragraphs = re.split(r"\n\s*\n", str(text).strip())
    filled = [textwrap.fill(" ".join(p.split()), width, break_long_words=False,
                            break_on_hyphens=False) for p in paragraphs]
    return "\n\n".join(filled)


def hang(text: str, indent: int = 2, width: int = WIDTH) -> str:
    """A list item: indented, continuation lines indented four more."""
    return textwrap.fill(" ".join(str(text).split()), width, initial_indent=" " * indent,
                         subsequent_indent=" " * (indent + 4), break_long_words=False,
                         break_on_hyphens=False)


def quote(line: str) -> str:
    """One quoted line, as mail clients write it: `> ` before text, a bare `>` for an empty line."""
    line = str(line).rstrip()
    return f"> {line}" if line else ">"


def finish(body: str) -> str:
    """No trailing whitespace, no runs of blank lines, exactly one newline at the end."""
    lines = [ln.rstrip() for ln in body.split("\n")]
    out: list[str] = []
    for ln in lines:
        if not ln and (not out or not out[-1]):
            continue
        out.append(ln)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def environment(user_dir: str | os.PathLike[str] | None = None) -> jinja2.Environment:
    paths = []
    if user_dir is not None:
        if not os.path.isdir(user_dir):
            raise UsageError(str(user_dir), "--templates: no such directory")
        paths.append(str(user_dir))
    paths.append(str(templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(wrap=wrap, hang=hang, quote=quote)
    return env


def render(env: jinja2.Environment, name: str, context: dict) -> str:
    """Render template `name`; a broken user template is an InputError naming its file."""
    try:
        template = env.get_template(name)
        return finish(template.render(**context))
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or name
        raise InputError(where, f"template error at line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound:
        raise InputError(name, "template not found") from None
    except jinja2.UndefinedError as exc:
        raise InputError(_source(env, name), f"template error: {exc.message}") from None


def _source(env: jinja2.Environment, name: str) -> str:
    try:
        _, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        return str(Path(filename)) if filename else name
    except jinja2.TemplateNotFound:
        return name

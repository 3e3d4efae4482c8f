"""Patch files in, one Series out: format-patch files, mboxes, single mails, diffs, web pages.

Flow position: **sources** -> model.  Each file given on the command line (or `-` for standard
input) is read as bytes and classified: an mbox (starts with a `From_` line), a single RFC 2822
mail, or plain text (a bare diff, or a patch with prose around it as copied from a web archive).
Every message becomes a Patch (headers, commit message, diff, FileChanges); a `[PATCH 0/N]`
message becomes the cover letter; replies and other messages without a diff inside an mbox are
skipped with a note.  All files together form one series, ordered by their `[PATCH vN n/m]`
numbering when every patch has one (the newest version wins when several are mixed), otherwise
in the order given.  Unusable input raises InputError naming the file.
"""

from __future__ import annotations

import os
import re
import sys
from typing import BinaryIO

from reviewer.errors import InputError
from reviewer.model import Patch, Series
from reviewer.sources import mail as mailmod
from reviewer.sources.diffparse import parse_diff
from reviewer.sources.diffscan import find_patch
from reviewer.sources.subject import is_reply, numbering

STDIN_NAME = "<stdin>"
_BASE_COMMIT = re.compile(r"^base-commit:\s*([0-9a-fA-F]{7,40})\s*$", re.MULTILINE)
_INBODY = re.compile(r"^(From|Subject|Date):\s*(.*)$")
_MSGID = re.compile(r"<([^<>\s]+)>")


class _NoDiff(Exception):
    """A message without a diff (a cover letter, a reply, a note)."""


def _read(path: str, stdin: BinaryIO | None) -> tuple[str, bytes]:
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            return STDIN_NAME, stream.read()
        except OSError as exc:
            raise InputError(STDIN_NAME, f"cannot read: {exc.strerror or exc}") from None
    try:
        with open(path, "rb") as fh:
            return path, fh.read()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None


def _ids(value: str) -> list[str]:
    return _MSGID.findall(value) or value.split()


def _msgid(value: str) -> str | None:
    ids = _ids(value)
    return ids[0] if ids else None


_PROSE_FROM = re.compile(r"^From:\s+(\S[^<>]*<[^<>@\s]+@[^<>\s]+>)\s*$")


def _split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def _inbody_headers(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """`From:`/`Subject:`/`Date:` lines opening a mail body override the mail's own (git am)."""
    found: dict[str, str] = {}
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines):
        m = _INBODY.match(lines[i])
        if not m or m.group(1) in found:
            break
        found[m.group(1)] = m.group(2).strip()
        i += 1
    if not found:
        return {}, lines
    return found, lines[i:]


def _commit_message(lines: list[str]) -> str:
    """The text before the diff, cut at the `---` that opens the diffstat."""
    for k, line in enumerate(lines):
        if line.rstrip() == "---":
            lines = lines[:k]
            break
    return "\n".join(lines).strip("\n").rstrip() + ("\n" if any(s.strip() for s in lines) else "")


def _build(text: str, headers: dict[str, str] | None, source: str) -> Patch:
    """One Patch from a message body (headers given) or a plain text (headers None)."""
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    patch = Patch(subject="", source=source)
    if headers is not None:
        inbody, lines = _inbody_headers(lines)
        patch.subject = inbody.get("Subject") or headers.get("Subject", "")
        patch.author = inbody.get("From") or headers.get("From", "")
        patch.date = inbody.get("Date") or headers.get("Date", "")
        patch.message_id = _msgid(headers.get("Message-ID", ""))
        patch.in_reply_to = _msgid(headers.get("In-Reply-To", ""))
        patch.references = _ids(headers.get("References", ""))
        patch.to = _split_list(headers.get("To", ""))
        patch.cc = _split_list(headers.get("Cc", ""))
    base = _BASE_COMMIT.search(text)
    patch.base_commit = base.group(1).lower() if base else None
    run = find_patch(lines)
    before = lines[: run.start] if run else lines
    if headers is None:
        first = next((k for k, s in enumerate(before) if s.strip()), None)
        if first is not None:
            patch.subject = " ".join(before[first].split())[:200]
            before = before[first + 1 :]
        else:
            patch.subject = os.path.basename(source)
        # a patch copied from a web archive: its author line opens the commit message
        for k, line in enumerate(before):
            m = _PROSE_FROM.match(line)
            if m:
                patch.author = m.group(1).strip()
                before = before[k + 1 :]
                break
    num = numbering(patch.subject)
    patch.version, patch.index, patch.total = num.version, num.index, num.total
    patch.body = _commit_message(before)
    if run is None:
        raise _NoDiff(patch)
    label = f" '{patch.subject}'" if patch.subject else ""
    if run.error:
        raise InputError(source, f"malformed patch{label}: {run.error}")
    patch.diff = "\n".join(lines[run.start : run.end]) + "\n"
    patch.files = parse_diff(patch.diff, source)
    if patch.files and all(f.is_binary for f in patch.files):
        raise InputError(source, f"patch{label} touches only binary files")
    return patch


def _units(data: bytes) -> tuple[str, list[tuple[str, dict[str, str] | None]]]:
    """(kind, [(text, headers)]) for one file's bytes; kind is mbox, mail or text."""
    if mailmod.is_mbox(data):
        out = []
        for raw in mailmod.split_mbox(data):
            m = mailmod.parse_mail(raw)
            out.append((m.body, m.headers))
        return "mbox", out
    if mailmod.is_mail(data):
        m = mailmod.parse_mail(data)
        return "mail", [(m.body, m.headers)]
    return "text", [(data.decode("utf-8", "replace"), None)]


def _order(patches: list[Patch], notes: list[str]) -> list[Patch]:
    if not patches or any(p.index is None for p in patches):
        for i, p in enumerate(patches, 1):
            if p.index is None:
                p.index, p.total = i, len(patches)
        return patches
    newest = max(p.version for p in patches)
    old = [p for p in patches if p.version != newest]
    if old:
        notes.append(f"ignored {len(old)} patch(es) of older versions; reviewing v{newest}")
    kept = sorted((p for p in patches if p.version == newest), key=lambda p: p.index or 0)
    return kept


def series_from_files(paths: list[str], stdin: BinaryIO | None = None) -> Series:
    """Read every file (`-` is standard input) into one Series, ordered by `[PATCH n/m]`."""
    series = Series(origin="files")
    patches: list[Patch] = []
    covers: list[Patch] = []
    sources: list[str] = []
    for path in paths:
        source, data = _read(path, stdin)
        kind, units = _units(data)
        found_patch = found_cover = False
        for text, headers in units:
            subject = (headers or {}).get("Subject", "")
            if headers is not None and is_reply(subject) and kind == "mbox":
                series.notes.append(f"{source}: skipped reply '{subject}'")
                continue
            try:
                patch = _build(text, headers, source)
            except _NoDiff as nd:
                cover: Patch = nd.args[0]
                if cover.index == 0:
                    cover.is_cover = True
                    covers.append(cover)
                    found_cover = True
                elif kind == "mbox":
                    series.notes.append(f"{source}: skipped message without a diff '{subject}'")
                continue
            patches.append(patch)
            found_patch = True
        if not found_patch and not found_cover:
            raise InputError(source, "mbox with no patches" if kind == "mbox" else "no diff found")
        sources.append(source)
    if not patches:
        raise InputError(", ".join(sources), "only a cover letter, no patches")
    series.patches = _order(patches, series.notes)
    if covers:
        version = series.version
        series.cover = next((c for c in covers if c.version == version), covers[-1])
    return series


def patch_from_message(data: bytes, source: str) -> Patch | None:
    """One mail's bytes as a Patch, for callers that hold messages rather than files (the bot).

    A `[PATCH 0/N]` message without a diff comes back as a cover letter (`is_cover`); a reply or
    any other message without a diff gives None.  A malformed patch raises InputError naming
    `source`.
    """
    if not mailmod.is_mail(data):
        return None
    m = mailmod.parse_mail(data)
    if is_reply(m.headers.get("Subject", "")):
        return None
    try:
        return _build(m.body, m.headers, source)
    except _NoDiff as nd:
        cover: Patch = nd.args[0]
        if cover.index == 0:
            cover.is_cover = True
            return cover
        return None

"""Finding ``dropout-figs:`` links in Markdown, outside code, and where they are."""

from __future__ import annotations

import re

# ![alt](dropout-figs:name?query "title") and [text](dropout-figs:name?query)
LINK_RE = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\(\s*<?dropout-figs:(?P<target>[^)\s\"'>]+)>?"
    r"(?P<title>\s+\"[^\"]*\")?\s*\)"
)
# src="dropout-figs:..." or href='dropout-figs:...' in raw HTML
SRC_RE = re.compile(r"(?P<attr>\b(?:src|href))=(?P<q>[\"'])dropout-figs:(?P<target>[^\"']+)(?P=q)")

# A fenced code block (``` or ~~~, possibly indented, e.g. inside tabs or
# admonitions) or an inline code span: examples there are shown, not rendered.
_CODE_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[^\n]*\n(?:.*?\n)??(?P=indent)?(?P=fence)[ \t]*$"
    r"|(?P<ticks>`+)(?!`)[^\n]*?(?<!`)(?P=ticks)(?!`)",
    re.MULTILINE | re.DOTALL,
)


def has_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text


def split_code(text: str):
    """Yield (is_code, segment) pieces of Markdown ``text``."""
    pos = 0
    for m in _CODE_RE.finditer(text):
        if m.start() > pos:
            yield False, text[pos : m.start()]
        yield True, m.group(0)
        pos = m.end()
    if pos < len(text):
        yield False, text[pos:]


def sub_outside_code(pattern: re.Pattern, repl, text: str) -> str:
    return "".join(seg if code else pattern.sub(repl, seg) for code, seg in split_code(text))


def targets_outside_code(text: str):
    """Every ``dropout-figs:`` target in ``text`` outside code, links and raw HTML alike."""
    for code, seg in split_code(text):
        if not code:
            for pattern in (LINK_RE, SRC_RE):
                for m in pattern.finditer(seg):
                    yield m["target"]


def line_of(source: str, target: str) -> int | None:
    """The 1-based line of ``source`` (a page's file) where ``target`` first appears."""
    pos = source.find(f"dropout-figs:{target}")
    return None if pos < 0 else source.count("\n", 0, pos) + 1


def md_escape(text: str) -> str:
    """Text safe inside the brackets of a Markdown image."""
    return text.replace("[", "(").replace("]", ")").replace("\n", " ")

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


# ---------------------------------------------------------------------------- figure <img> tags
IMG_RE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR_RE = r"\s{name}\s*=\s*([\"'])(?P<value>[^\"']*)\1"


def _attr(tag: str, name: str) -> str | None:
    m = re.search(_ATTR_RE.format(name=name), tag, re.IGNORECASE)
    return m["value"] if m else None


def image_size(path) -> tuple[int, int] | None:
    """Pixel width and height from a PNG's or GIF's header; None for other formats."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    return None


def lazy_figure_images(html: str, find_file) -> str:
    """Every ``<img>`` of a figure loads lazily, with its size reserved.

    ``find_file(src)`` gives the path of the figure file an ``src`` points to, or None for
    an image that is not a figure (left as it is). ``loading="lazy"``: a figure far below
    the fold, or one in an explorable's fallback hidden by the running widget, is not
    fetched until it could be seen (and browsers load every image when printing, or when
    scripting is off). ``width``/``height`` from the file, unless the tag has them, so
    the page does not jump when it arrives; the CSS still scales it to the column.
    """

    def fix(m: re.Match) -> str:
        tag = m.group(0)
        src = _attr(tag, "src")
        path = find_file(src) if src else None
        if path is None:
            return tag
        extra = []
        if _attr(tag, "loading") is None:
            extra.append('loading="lazy"')
        if _attr(tag, "decoding") is None:
            extra.append('decoding="async"')
        size = image_size(path)
        if size and _attr(tag, "width") is None and _attr(tag, "height") is None:
            extra.append(f'width="{size[0]}" height="{size[1]}"')
        if not extra:
            return tag
        end = -2 if tag.endswith("/>") else -1
        return f"{tag[:end].rstrip()} {' '.join(extra)}{tag[end:]}"

    return IMG_RE.sub(fix, html)

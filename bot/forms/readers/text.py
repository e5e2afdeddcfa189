"""Plain text (a .txt, a .csv) in the charsets units' machines write (`safety.decode_text`),
and the visible text of an HTML page read cheaply, without LibreOffice."""
from __future__ import annotations

import re

from bot.forms import safety
from bot.forms.document import Document
from bot.forms.readers.bounds import Budget, Reading, current
from bot.forms.readers.errors import UnknownCharset, UnreadableFile
from bot.forms.result import MAX_DOCUMENT_CHARS, REASON_TOO_MUCH_TEXT, REASON_UNKNOWN_CHARSET


def read_text(data: bytes) -> Document:
    """Plain text in UTF-8, UTF-16/32 (BOM, or UTF-16 told by its zero bytes) or GB18030;
    anything else that is still text raises UnknownCharset."""
    if len(data) > 4 * MAX_DOCUMENT_CHARS:  # no encoding takes more than four bytes a character
        raise UnreadableFile(REASON_TOO_MUCH_TEXT)
    text = safety.decode_text(data)
    if text is None:
        if safety.looks_like_text(data):
            raise UnknownCharset(REASON_UNKNOWN_CHARSET, data.decode("cp1252", "replace"))
        raise UnreadableFile("文本文件的编码无法识别")
    lines = tuple(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    current().charge(sum(map(len, lines)))
    return Document(lines, (), "\n".join(lines), "txt")



def read_html_text(data: bytes, *, budget: Budget | None = None) -> Document:
    """The visible text of an HTML page (paragraphs only, no tables), without LibreOffice:
    the cheap look that decides whether a page may be a form at all (classify). Bounded like
    every reader: fed in 64 KB pieces with the budget checked between them."""
    with Reading(budget) as budget:
        return _html_text(data, budget)


def _html_text(data: bytes, budget: Budget) -> Document:
    from html.parser import HTMLParser

    if len(data) > 4 * MAX_DOCUMENT_CHARS:
        raise UnreadableFile(REASON_TOO_MUCH_TEXT)
    markup = _decode_html(data)

    class _Text(HTMLParser):
        _BREAKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
                             "article", "blockquote", "pre", "hr", "title"})
        _HIDDEN = frozenset({"script", "style", "template", "noscript", "xml"})

        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.hidden = 0
            self.tables = 0

        def handle_starttag(self, tag, attrs):
            if tag in self._HIDDEN:
                self.hidden += 1
            if tag == "table":
                self.tables += 1
            if tag in ("td", "th"):
                self.parts.append("\t")
            elif tag in self._BREAKS:
                self.parts.append("\n")

        def handle_endtag(self, tag):
            if tag in self._HIDDEN and self.hidden:
                self.hidden -= 1
            if tag in self._BREAKS:
                self.parts.append("\n")

        def handle_data(self, text):
            if not self.hidden:
                self.parts.append(text)
                budget.charge(len(text))

    parser = _Text()
    for start in range(0, len(markup), 65536):
        parser.feed(markup[start:start + 65536])
        budget.check()
    parser.close()
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in "".join(parser.parts).split("\n")]
    paragraphs = tuple(line for line in lines if line)
    return Document(paragraphs, (), "\n".join(paragraphs), "html")


_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _decode_html(data: bytes) -> str:
    """An HTML page's characters: its BOM, the charset its <meta> declares (Outlook writes
    one), then UTF-8, GB18030 as for plain text, else cp1252."""
    import codecs

    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        text = safety.decode_text(data)
        if text is not None:
            return text
    declared = _META_CHARSET_RE.search(data[:4096])
    if declared:
        try:
            name = codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            name = None
        if name in ("gb2312", "gbk", "hz"):
            name = "gb18030"  # what Windows' "gb2312" really is
        if name and not name.startswith(("utf-16", "utf-32")):  # a page in ASCII cannot be UTF-16
            try:
                return data.decode(name)
            except (UnicodeDecodeError, LookupError):
                pass
    try:
        return data.decode("utf-8")  # valid UTF-8 is UTF-8, whatever characters it holds
    except UnicodeDecodeError:
        pass
    return safety.decode_text(data) or data.decode("cp1252", "replace")

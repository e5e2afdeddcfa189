"""Opening an OOXML / ODF package safely, before and while any library reads it: the zip guard
(`safety.check_zip`, then no member's prolog may declare a DTD), and each XML part parsed by
lxml with entities left unexpanded, no network, and libxml2's own limits named as reasons."""
from __future__ import annotations

import io
import zipfile

from bot.forms import safety
from bot.forms.readers.bounds import memory_reason
from bot.forms.readers.errors import REASON_XML_ENTITY, UnreadableFile
from bot.forms.result import REASON_TOO_DEEP, REASON_TOO_MUCH_TEXT


def guard_zip(data: bytes) -> None:
    reason = safety.check_zip(data)
    if reason:
        raise UnreadableFile(reason)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.filename.lower().endswith((".xml", ".rels", ".vml")) and declares_dtd(archive, info):
                raise UnreadableFile(REASON_XML_ENTITY)


def declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = 65536) -> bool:
    """True when the member's prolog holds a DOCTYPE (where entities are declared). Office
    never writes one; a prolog longer than `limit` counts as suspicious too. Reads only as much
    as the prolog needs (a few hundred bytes, not 64 KB of every styles part)."""
    with archive.open(info) as member:
        head = b""
        size = 1024
        while True:
            head += member.read(size - len(head))
            eof = len(head) < size
            verdict = _prolog_verdict(head, more=not eof and size < limit, limit=limit)
            if verdict is not None:
                return verdict
            size = min(size * 8, limit)


def _prolog_verdict(head: bytes, *, more: bool, limit: int) -> bool | None:
    """True: a DOCTYPE/ENTITY (or a prolog filling the whole limit); False: the root element
    starts first (or the member ends); None: `head` ends inside the prolog and `more` says
    further bytes may be read."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while position < len(head) and head[position:position + 1].isspace():
            position += 1
        rest = head[position:]
        if len(rest) < 9 and more:
            return None
        if not rest:
            return len(head) >= limit
        if rest.startswith(b"<?"):
            end = head.find(b"?>", position)
        elif rest.startswith(b"<!--"):
            end = head.find(b"-->", position)
        elif rest[:9].upper() == b"<!DOCTYPE" or rest.startswith(b"<!ENTITY"):
            return True
        else:
            return False
        if end < 0:
            return None if more else len(head) >= 65536
        position = end + 2


def xml_parser():
    from lxml import etree
    # resolve_entities=False: an entity declared in a DTD stays an unexpanded reference (no
    # billion laughs, no external file read); the DOCTYPE itself is refused in parse_part.
    return etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)


def parse_part(archive: zipfile.ZipFile, name: str):
    """One member parsed safely; a DOCTYPE (where entities are declared — Office never writes
    one) refuses the file. Only the parts we read are parsed, so only they need checking: the
    other members (styles, themes, stylesWithEffects: ten times document.xml) are never opened."""
    from lxml import etree

    try:
        root = etree.fromstring(archive.read(name), xml_parser())
    except etree.XMLSyntaxError as exc:
        # libxml2 itself stops an entity expansion (billion laughs) with a syntax error: name
        # the attack rather than calling the file damaged; and its other limits likewise
        if declares_dtd(archive, archive.getinfo(name)):
            raise UnreadableFile(REASON_XML_ENTITY) from None
        if out_of_memory(exc):
            raise UnreadableFile(memory_reason()) from None
        message = str(exc)
        if "Excessive depth" in message:
            raise UnreadableFile(REASON_TOO_DEEP) from None
        if "huge text node" in message or "Huge input lookup" in message:
            raise UnreadableFile(REASON_TOO_MUCH_TEXT) from None
        raise
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnreadableFile(REASON_XML_ENTITY)
    return root


def out_of_memory(exc) -> bool:
    """libxml2 reports a failed allocation as a syntax error ("unknown error", ERR_NO_MEMORY)."""
    return exc.code == 2 or any(entry.type_name == "ERR_NO_MEMORY" for entry in exc.error_log)


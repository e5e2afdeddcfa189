"""Which unit: the roster (a CSV the office keeps) and the one matcher of names and addresses.

CSV columns (interface.md): unit, aliases (|-separated), category, emails (|-separated), and
optionally contact and mobile: the person the office's own list names, the unit's contact until
its liaison form arrives. Files without the optional columns read as before.
Excel on a Chinese Windows saves CSV as GBK: a CSV is read in the charsets a text attachment
is read in (`decode_csv`).
"""
from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..forms.safety import decode_text
from ..os_errors import os_reason


class RosterError(Exception):
    """The roster cannot be used; one Chinese line for the admin."""


@dataclass(frozen=True)
class Unit:
    name: str
    aliases: tuple[str, ...]
    category: str
    emails: tuple[str, ...]
    contact: str = ""  # from the roster, not a liaison form: a name to address until one arrives
    mobile: str = ""


def decode_csv(raw: bytes) -> str | None:
    """The characters of a CSV file (the roster, or the office's list `roster_import` reads):
    UTF-8 with or without BOM, GB18030 from Chinese Windows, UTF-16/32 — `safety.decode_text`,
    the rule a text attachment is read by; a blank file is empty. None: another charset."""
    return decode_text(raw) if raw.strip() else raw.decode("ascii")  # blank: ASCII whitespace


_NOISE = re.compile(r"[\s\"'“”‘’《》<>（）()\[\]【】:：,，、.。·•_\-—]+")
_STAMP = re.compile(r"[（(]\s*(盖章|公章|章)\s*[)）]")


def normalize_name(text: str) -> str:
    """Fold a unit name for comparison: width, spaces, quotes, brackets and a trailing stamp note."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _STAMP.sub("", text)
    return _NOISE.sub("", text)


def _variants(name: str) -> set[str]:
    """Ways people write the same unit: with or without the city prefix, 工会 for 总工会."""
    base = normalize_name(name)
    out = {base}
    for prefix in ("安徽省安庆市", "安庆市", "安庆"):
        if base.startswith(prefix) and len(base) > len(prefix) + 2:
            out.add(base[len(prefix):])
    for v in list(out):
        if v.endswith("总工会"):
            out.add(v[: -len("总工会")] + "工会")
    return {v for v in out if len(v) >= 3}


def _stem(name: str) -> str:
    """A folded name without its 总工会 / 工会: the part that tells two unions apart."""
    for suffix in ("总工会", "工会"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class Roster:
    def __init__(self, units: list[Unit]):
        self.units = units
        self.by_name = {u.name: u for u in units}
        self._by_address: dict[str, Unit] = {}
        for u in units:
            for e in u.emails:
                self._by_address.setdefault(e, u)
        # variant -> set of unit names; a variant claimed by two units is ambiguous and unused
        claims: dict[str, set[str]] = {}
        for u in units:
            for label in (u.name, *u.aliases):
                for v in _variants(label):
                    claims.setdefault(v, set()).add(u.name)
        self._variants = {v: next(iter(names)) for v, names in claims.items() if len(names) == 1}
        self._longest_first = sorted(self._variants, key=len, reverse=True)

    @classmethod
    def load(cls, path: Path) -> Roster:
        try:
            raw = Path(path).read_bytes()
        except FileNotFoundError:
            raise RosterError(f"找不到单位名单文件 {path}（配置项 [roster] file）") from None
        except OSError as exc:
            raise RosterError(f"无法读取单位名单文件 {path}：{os_reason(exc)}") from None
        return cls.parse(raw, str(path))

    @classmethod
    def parse(cls, raw: bytes, source: str = "名单") -> Roster:
        text = decode_csv(raw)
        if text is None:
            raise RosterError(f"单位名单 {source} 的编码无法识别（请存为 UTF-8 或 GBK）")
        reader = csv.DictReader(io.StringIO(text))
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        if "unit" not in fields:
            raise RosterError(f"单位名单 {source} 缺少表头 unit,aliases,category,emails")
        units, seen = [], set()
        for lineno, row in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
            name = row.get("unit", "")
            if not name:
                continue
            if name in seen:
                raise RosterError(f"单位名单 {source} 第 {lineno} 行：单位“{name}”重复")
            seen.add(name)
            emails = tuple(e.strip().lower() for e in row.get("emails", "").split("|") if e.strip())
            for e in emails:
                if "@" not in e:
                    raise RosterError(f"单位名单 {source} 第 {lineno} 行：邮箱“{e}”无效")
            aliases = tuple(a.strip() for a in row.get("aliases", "").split("|") if a.strip())
            units.append(Unit(name, aliases, row.get("category", ""), emails, row.get("contact", ""),
                              row.get("mobile", "")))
        return cls(units)

    def unit_for_address(self, address: str, extra: dict[str, str] | None = None) -> Unit | None:
        """The unit whose record holds this address: roster emails, then accepted liaison forms."""
        address = (address or "").lower()
        if address in self._by_address:
            return self._by_address[address]
        if extra and address in extra:
            return self.by_name.get(extra[address])
        return None

    def match_name(self, text: str) -> Unit | None:
        """A unit named by a form's 单位名称 / 填报单位 cell: the whole cell is the name."""
        key = normalize_name(text)
        if not key:
            return None
        if key in self._variants:
            return self.by_name[self._variants[key]]
        for v in _variants(text):
            if v in self._variants:
                return self.by_name[self._variants[v]]
        return self.find_in_text(text)

    def find_in_text(self, text: str) -> Unit | None:
        """The one unit a free text (a subject, a report's first lines) names; None if none or
        several different units are named with equally long names."""
        hay = normalize_name(text)
        if not hay:
            return None
        found: dict[str, int] = {}
        for v in self._longest_first:
            if v in hay:
                name = self._variants[v]
                found[name] = max(found.get(name, 0), len(v))
                hay = hay.replace(v, "\0")
        if not found:
            return None
        best = max(found.values())
        winners = [n for n, ln in found.items() if ln == best]
        return self.by_name[winners[0]] if len(winners) == 1 else None

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Units the admin may have meant by a name that matches none (`intake assign 16 潜山市`):
        names or aliases that begin with or contain what was typed, then close spellings."""
        key = normalize_name(text)
        if not key:
            return []
        scores: dict[str, float] = {}

        def offer(name: str, score: float) -> None:
            scores[name] = max(scores.get(name, 0.0), score)

        for u in self.units:
            for label in (u.name, *u.aliases):
                for v in _variants(label) | {normalize_name(label)}:
                    if v.startswith(key) or key.startswith(v):
                        offer(u.name, 3 + min(len(key), len(v)) / max(len(key), len(v)))
                    elif key in v or v in key:
                        offer(u.name, 2 + min(len(key), len(v)) / max(len(key), len(v)))
                    else:
                        # close as a whole and in the part before 工会: 北京市总工会 is not 桐城市总工会
                        ratio = difflib.SequenceMatcher(None, key, v).ratio()
                        if ratio >= 0.6 and difflib.SequenceMatcher(None, _stem(key), _stem(v)).ratio() >= 0.5:
                            offer(u.name, ratio)
        order = {u.name: i for i, u in enumerate(self.units)}
        ranked = sorted(scores, key=lambda n: (-scores[n], order[n]))
        if ranked and scores[ranked[0]] >= 3:  # a prefix match: the others are noise next to it
            ranked = [n for n in ranked if scores[n] >= 3]
        return ranked[:limit]

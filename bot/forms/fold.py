"""The one rule by which text people wrote is compared with the words we look for.

`fold` makes the ways of writing the same thing one: NFKC (full-width letters, digits and
punctuation half-width, compatibility characters spelled out: ㈠ -> (一), ⼿ -> 手), then, as
the caller needs,

- whitespace dropped (the default: `姓  名` is `姓名`; `keep_spaces` keeps it for texts
  searched with patterns that allow spaces themselves, such as `第\\s*2\\s*周`);
- lower case (`lower`: labels written in ASCII, `E-Mail`, `QQ号`);
- the marks people swap for each other made one (`marks`: quotes dropped, brackets of every
  width `(` `)`, the clause marks `、。；.` a comma) — the 附件2 prose alignment, which
  compares wording, not punctuation.

Who folds how: blank values (`values`) drop spaces; the 附件1 labels (`liaison`) and the
roster's column headers (`campaign.roster_import`) drop spaces and lower-case; keywords in a
subject, a file name or a report's lines (`classify`, `narrative`) keep spaces; the 附件2
prose (`progress.folding`) drops spaces and unifies marks, one character at a time so that
every folded character points back to the one written.
"""
from __future__ import annotations

import unicodedata

# Quotes carry nothing the alignment needs; brackets and clause marks of every kind are one.
QUOTES = "“”‘’\"'「」『』〝〞"
_MARKS = str.maketrans({
    **dict.fromkeys(QUOTES, None),
    "[": "(", "【": "(", "〔": "(", "〖": "(",
    "]": ")", "】": ")", "〕": ")", "〗": ")",
    ";": ",", "、": ",", "。": ",", ".": ",", "．": ",", "，": ",", "；": ",",
})


def fold(text: str | None, *, keep_spaces: bool = False, lower: bool = False, marks: bool = False) -> str:
    """`text` folded by the rule above; None folds to ""."""
    folded = unicodedata.normalize("NFKC", text or "")
    if not keep_spaces:
        # str.split() splits on exactly the characters str.isspace() accepts, in C
        folded = "".join(folded.split())
    if lower:
        folded = folded.lower()
    if marks:
        folded = folded.translate(_MARKS)
    return folded

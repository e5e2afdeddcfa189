"""Files shipped beside the package (mail templates, the example config and roster).

In a source checkout (`pip install -e .`, the tests) they are at the repository root; a plain
`pip install .` puts them under `<prefix>/share/anqing-intake-bot` (pyproject's data-files).
"""
from __future__ import annotations

import sys
from pathlib import Path

SHARE = "anqing-intake-bot"


def project_file(*parts: str) -> Path:
    source = Path(__file__).resolve().parents[1].joinpath(*parts)
    if source.exists():
        return source
    return Path(sys.prefix, "share", SHARE, *parts)

"""The sandbox child (`sandbox.read` starts it): `python -m bot.forms.readers MEGABYTES
REMAINING TOTAL FORMAT` limits its own address space, reads one file from stdin with the same
readers and writes the Document, or the reason it could not be read, as one JSON object."""
from __future__ import annotations

import json
import resource
import sys

from bot.forms.readers import Budget, ReadTimeout, ScanOnly, UnreadableFile, read_document, sandbox
from bot.forms.readers.bounds import MB


def main(argv: list[str]) -> int:
    megabytes, remaining, total, fmt = int(argv[0]), float(argv[1]), float(argv[2]), argv[3]
    limit = megabytes * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sandbox.IN_SANDBOX = True
    try:
        data = sys.stdin.buffer.read()
        budget = Budget(remaining)
        budget.seconds = total  # the reason names the attachment's whole budget
        try:
            doc = read_document(data, f"input.{fmt}", fmt=fmt, budget=budget)
            answer = {"document": {"paragraphs": doc.paragraphs, "tables": [t.rows for t in doc.tables],
                                   "text": doc.text, "format": doc.source_format}, "chars": budget.chars}
        except ScanOnly as exc:
            answer = {"scan": exc.reason}
        except ReadTimeout as exc:
            answer = {"timeout": exc.reason}
        except UnreadableFile as exc:  # a MemoryError too (read_document: the limit's own reason)
            answer = {"unreadable": exc.reason}
        del data
        sys.stdout.write(json.dumps(answer, ensure_ascii=False))
        sys.stdout.flush()
    except MemoryError:
        return sandbox.EXIT_MEMORY
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

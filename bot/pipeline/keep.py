"""Step 1, keep: every fetched mail on disk, then recorded as `pending` with its location and the
UID watermark, one transaction per IMAP fetch batch. Nothing is parsed before this commit."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..intake import Intake
from ..mail.headers import message_id_of
from ..mail.imap import FetchedMail
from ..store.models import PENDING, MailboxState, MailLocation, Message


def ingest(intake: Intake, fetched: FetchedMail) -> int | None:
    """Keep the raw mail and record it; return the new message's id, or None when this
    location or this exact mail (Message-ID and bytes) was seen before."""
    return ingest_batch(intake, [fetched])[0]


def ingest_batch(intake: Intake, batch: list[FetchedMail]) -> list[int | None]:
    """`ingest` for one IMAP fetch batch: every raw mail on disk first (one directory sync per
    folder), then one transaction records them all and moves the UID watermark. Returns, per
    mail, the new message's id or None when seen before. A crash in between leaves files
    without rows, which the next fetch of the same UIDs records."""
    if not batch:
        return []
    digests = intake.archive.keep_mails([f.raw for f in batch])  # on disk before the database knows them
    message_ids = [message_id_of(f.raw) for f in batch]
    for attempt in range(3):
        try:
            return _record_arrivals(intake, batch, digests, message_ids)
        except IntegrityError:
            # Another daemon recorded some of these mails (or the folder's first state row) at
            # the same moment; its rows are committed now, and looking again finds them.
            if attempt == 2:
                raise
    return [None] * len(batch)


def _record_arrivals(intake: Intake, batch: list[FetchedMail], digests: list[str],
                     message_ids: list[str]) -> list[int | None]:
    """Set-based: one look-up of the batch's known locations and one of its known mails,
    whatever the batch's size."""
    folder, uidvalidity = batch[0].folder, batch[0].uidvalidity
    with intake.db.session() as s:
        # The folder's row is locked (PostgreSQL) so that two daemons' watermarks never
        # overwrite each other and their look-ups below see each other's rows.
        state = s.get(MailboxState, folder, with_for_update=True)
        if state is None:
            state = MailboxState(folder=folder, uidvalidity=uidvalidity, last_uid=0)
            s.add(state)
        elif state.uidvalidity != uidvalidity:
            state.uidvalidity, state.last_uid = uidvalidity, 0
        state.last_uid = max(state.last_uid, max(f.uid for f in batch))
        seen_uids = set(s.scalars(select(MailLocation.uid).where(
            MailLocation.folder == folder, MailLocation.uidvalidity == uidvalidity,
            MailLocation.uid.in_([f.uid for f in batch]))))
        known: dict[tuple[str, str], int] = {
            (mid, sha): pk for pk, mid, sha in s.execute(
                select(Message.id, Message.message_id, Message.sha256).where(Message.sha256.in_(set(digests))))}
        plan: list[tuple[FetchedMail, tuple[str, str], bool]] = []  # (mail, identity, first sight)
        fresh: dict[tuple[str, str], Message] = {}
        for fetched, digest, message_id in zip(batch, digests, message_ids):
            if fetched.uid in seen_uids:
                continue
            seen_uids.add(fetched.uid)
            key = (message_id, digest)
            first = key not in known and key not in fresh
            if first:
                fresh[key] = Message(message_id=message_id, sha256=digest, size=len(fetched.raw),
                                     received_at=fetched.internaldate, outcome=PENDING)
            plan.append((fetched, key, first))
        s.add_all(fresh.values())
        s.flush()  # one multi-row INSERT ... RETURNING for the batch's new mails
        known.update((key, msg.id) for key, msg in fresh.items())
        s.add_all([MailLocation(folder=folder, uidvalidity=uidvalidity, uid=fetched.uid, message_pk=known[key])
                   for fetched, key, _ in plan])
        new_ids = {fetched.uid: known[key] for fetched, key, first in plan if first}
        return [new_ids.get(f.uid) for f in batch]

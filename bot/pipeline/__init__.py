"""A message's walk, one module per step: keep -> claim -> read -> decide -> answer, and `walk`,
the one route through them. What the rest of the bot uses is named here."""
from __future__ import annotations

from .claim import CLAIM_SECONDS, REASON_MARKED_HANDLED, ClaimLost, Job, Pending, begin, pending_ids
from .decide import identify_unit, outcome_for
from .keep import ingest, ingest_batch
from .read import ReadFailure, ReadFile, Reading, read_archived, read_job, read_message
from .walk import SET_ASIDE, InProcess, finish, process, process_pending, run

__all__ = ["CLAIM_SECONDS", "REASON_MARKED_HANDLED", "SET_ASIDE", "ClaimLost", "InProcess", "Job", "Pending",
           "ReadFailure", "ReadFile", "Reading", "begin", "finish", "identify_unit", "ingest", "ingest_batch",
           "outcome_for", "pending_ids", "process", "process_pending", "read_archived", "read_job",
           "read_message", "run"]

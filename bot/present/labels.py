"""The Chinese word people see for each outcome a message can have (interface.md): in the
poll's log lines, the admin's command output and the workbook's 消息记录 sheet."""
from __future__ import annotations

from ..store.models import ACCEPTED, AUTO_REPLY, DUPLICATE, IGNORED, NEEDS_REVIEW, PENDING, TAKEN

OUTCOME_LABELS = {ACCEPTED: "已登记", NEEDS_REVIEW: "待人工处理", DUPLICATE: "重复",
                  AUTO_REPLY: "自动回复（不答复）", IGNORED: "已忽略", PENDING: "待处理",
                  TAKEN: "由另一进程处理",
                  # pipeline.SET_ASIDE: a return value only, never stored (stored as "ignored"
                  # with the reason)
                  "set_aside": "启用前或活动开始前的旧邮件（仅存档）"}

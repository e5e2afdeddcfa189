"""Several campaigns in one database, through the real path (Dovecot, the SMTP sink, `intake`
as a subprocess): the sample June of 2020 is polled under the 2020 config; its `status`,
`report`, `digest` and `export` outputs are captured; the config then names two campaigns, the
shipped 2020 folder and a copy of it made into a 2021 campaign (its own dates, slug, name and
keywords); with `--campaign 2020-anqing-safety-month` every output is the same as before, also
after mail of June 2021 arrived, which goes to the 2021 campaign."""
from __future__ import annotations

import io
import json
import re
import shutil
from datetime import datetime
from email import message_from_bytes
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import ROOT, SAMPLES
from tests.fixtures.commands import run, weekly_mail
from tests.test_samples import append_samples

C2020, C2021 = "2020-anqing-safety-month", "2021-anqing-safety-month"
NOW_2020 = "2020-06-30T12:00:00+08:00"
NOW_2021 = "2021-06-22T12:00:00+08:00"


def ok(setup, *args) -> str:
    proc = run(setup, *args)
    assert proc.returncode == 0, f"intake {' '.join(args)}: {proc.stderr[-3000:]}"
    return proc.stdout


def cells(path: Path) -> dict[str, list[tuple]]:
    """Every sheet's cell values: what a reader of the workbook sees (the file's bytes carry
    the zip's own timestamps)."""
    book = load_workbook(io.BytesIO(path.read_bytes()))
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def outputs(setup, *campaign: str, now: str = NOW_2020, tag: str = "") -> dict:
    """status, report, the digest's text and the export's cells, as of `now`."""
    out = {}
    out["status"] = json.loads(ok(setup, "status", "--json", "--now", now, *campaign))
    out["report"] = json.loads(ok(setup, "report", "--json", "--now", now, *campaign))
    out["status_text"] = ok(setup, "status", "--now", now, *campaign)
    out["digest"] = ok(setup, "digest", "--now", now, *campaign)
    path = setup.dir / f"export{tag}.xlsx"
    ok(setup, "export", str(path), "--now", now, *campaign)
    out["export"] = cells(path)
    return out


def make_2021_campaign(folder: Path) -> Path:
    """The shipped 2020 folder copied and edited into next year's campaign: a new slug, name,
    period, deadlines (weekly reports on 2021's Thursdays) and keywords."""
    target = folder / C2021
    shutil.copytree(ROOT / "campaigns" / C2020, target)
    toml = target / "campaign.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace("[campaign]\n", f'[campaign]\nslug = "{C2021}"\n', 1)
    text = text.replace("2020年", "2021年").replace("year = 2020", "year = 2021")
    text = text.replace('keywords = ["安全生产月"]', 'keywords = ["2021年安全生产月", "安全生产月"]')
    text = text.replace("first = 2020-06-04", "first = 2021-06-03").replace("last = 2020-06-25", "last = 2021-06-24")
    text = re.sub(r"\b2020-(0[5-6]-\d\d)", r"2021-\1", text)
    assert "2020-" not in text.split("[[forms]]")[0]
    toml.write_text(text, encoding="utf-8")
    return target


def two_campaigns(setup, second: Path) -> None:
    """The config's [campaign] table becomes [[campaigns]]: the shipped 2020 folder first, 2021's."""
    config = setup.config_path.read_text(encoding="utf-8")
    start, end = config.index("[campaign]\n"), config.index("[schedule]\n")
    tables = (f'[[campaigns]]\ndefinition = "{ROOT / "campaigns" / C2020}"\n\n'
              f'[[campaigns]]\ndefinition = "{second}"\n\n')
    setup.config_path.write_text(config[:start] + tables + config[end:], encoding="utf-8")


def mail_2021_progress_table() -> bytes:
    """The sample 附件2 of 岳西县总工会, sent again a year later as a new mail."""
    msg = message_from_bytes((SAMPLES / "messages" / "007.eml").read_bytes())
    del msg["Message-ID"]
    msg["Message-ID"] = "<yx-2021-progress@example.test>"
    return msg.as_bytes()


@pytest.fixture(scope="module")
def years(tmp_path_factory, dovecot, smtp_sink):
    """One setup through the steps; what each step printed."""
    from tests.conftest import new_setup

    setup = new_setup(tmp_path_factory.mktemp("campaigns"), dovecot, smtp_sink)
    append_samples(setup)
    ok(setup, "poll")
    reminded = json.loads(ok(setup, "remind", "--json", "--now", "2020-06-11T09:30:00+08:00"))
    one = outputs(setup, tag="-one")
    two_campaigns(setup, make_2021_campaign(setup.dir))
    both_before = outputs(setup, "--campaign", C2020, tag="-before")
    setup.append(weekly_mail(mid="<tc-2021-week2@example.test>", subject="桐城市总工会本周工作开展情况"),
                 datetime.fromisoformat("2021-06-10T14:00:00+08:00"))
    setup.append(mail_2021_progress_table(), datetime.fromisoformat("2021-06-20T10:30:00+08:00"))
    ok(setup, "poll")
    both_after = outputs(setup, "--campaign", C2020, tag="-after")
    return {"setup": setup, "reminded": reminded, "one": one, "before": both_before, "after": both_after}


def test_the_2020_outputs_are_unchanged_when_a_second_campaign_is_added(years):
    one, before = years["one"], years["before"]
    assert one["status"]["units"] and one["report"]["units"]  # something to compare
    for key in ("status", "report", "status_text", "digest", "export"):
        assert before[key] == one[key], key


def test_the_2020_outputs_are_unchanged_after_2021_mail_arrived(years):
    one, after = years["one"], years["after"]
    for key in ("status", "report", "status_text", "digest", "export"):
        assert after[key] == one[key], key
    # the 2020 campaign is named by its name as well as its slug
    by_name = json.loads(ok(years["setup"], "status", "--json", "--now", NOW_2020,
                            "--campaign", "2020年全市“安全生产月”活动"))
    assert by_name == one["status"]


def test_june_2021_mail_goes_to_the_2021_campaign(years):
    setup = years["setup"]
    doc = json.loads(ok(setup, "status", "--json", "--now", NOW_2021, "--campaign", C2021))
    units = {u["unit"]: u["items"] for u in doc["units"]}
    assert units["桐城市总工会"]["weekly_report:2021-06-10"]["state"] == "on_time"
    assert units["桐城市总工会"]["weekly_report:2021-06-10"]["received_at"] == "2021-06-10T14:00:00+08:00"
    assert units["岳西县总工会"]["progress_table"]["received_at"] == "2021-06-20T10:30:00+08:00"
    assert units["岳西县总工会"]["progress_table"]["due"] == "2021-06-28T23:59:59+08:00"
    # nothing of 2020 counts for 2021: 2020's liaison forms and reports stay in 2020
    assert all(u["liaison"] is None for u in doc["units"])
    received = {(unit, item) for unit, items in units.items() for item, st in items.items() if st["received_at"]}
    assert received == {("桐城市总工会", "weekly_report:2021-06-10"), ("岳西县总工会", "progress_table")}
    assert not any(k.startswith("weekly_report:2020") for items in units.values() for k in items)
    report = json.loads(ok(setup, "report", "--json", "--now", NOW_2021, "--campaign", C2021))
    assert set(report["units"]) == {"岳西县总工会"}
    year_before = years["one"]["report"]["units"]["岳西县总工会"]
    assert report["units"]["岳西县总工会"] == year_before  # the same form, sent again

    from bot.store.models import Message, Submission

    intake = setup.intake()
    with intake.db.session() as s:
        attributed = dict(s.execute(select(Message.message_id, Message.campaign)).all())
        subs = {(x.campaign, x.unit, x.item) for x in s.scalars(select(Submission).where(
            Submission.received_at >= datetime.fromisoformat("2021-01-01T00:00:00+08:00")))}
    intake.db.dispose()
    assert attributed["<tc-2021-week2@example.test>"] == C2021
    assert attributed["<yx-2021-progress@example.test>"] == C2021
    assert {mid: c for mid, c in attributed.items() if "2021" not in mid} == {
        mid: C2020 for mid in attributed if "2021" not in mid}
    assert subs == {(C2021, "桐城市总工会", "weekly_report:2021-06-10"), (C2021, "岳西县总工会", "progress_table")}
    # the acknowledgement of the 2021 weekly report speaks of 2021's week
    acks = [r.message for r in setup.sent if r.message["In-Reply-To"] == "<tc-2021-week2@example.test>"]
    assert len(acks) == 1
    text = acks[0].get_body(("plain",)).get_content()
    assert "计入第二周（6月10日）" in text
    owed = text.split("贵单位尚需报送")[1]
    assert "联络员推荐表（附件1），截止时间：2021年6月10日 23:59" in owed  # 2020's does not count for 2021
    assert "2020年" not in owed


def test_without_campaign_the_read_side_speaks_of_the_latest(years):
    # the machine's clock is after both campaigns ended: the latest one, 2021
    setup = years["setup"]
    default = json.loads(ok(setup, "status", "--json", "--now", NOW_2021))
    named = json.loads(ok(setup, "status", "--json", "--now", NOW_2021, "--campaign", C2021))
    assert default == named


def test_an_unknown_campaign_is_one_line_naming_the_campaigns(years):
    for command in (("status",), ("report",), ("remind", "--dry-run"), ("digest",), ("export", "x.xlsx")):
        proc = run(years["setup"], *command, "--campaign", "2019")
        assert proc.returncode == 1, (command, proc.stderr)
        assert proc.stderr.strip().splitlines() == [
            f"错误：没有名为“2019”的活动；本配置的活动：{C2020}（2020年全市“安全生产月”活动）、"
            f"{C2021}（2021年全市“安全生产月”活动）"], command


def test_reminders_of_each_campaign_have_their_own_keys(years):
    """2020's reminders keep their keys (none is sent again after the second campaign came);
    2021's carry its slug."""
    setup = years["setup"]
    assert years["reminded"], "the 2020 reminders of 11 June went out"
    again = json.loads(ok(setup, "remind", "--json", "--now", "2020-06-11T09:30:00+08:00", "--campaign", C2020))
    assert again == []
    rows = json.loads(ok(setup, "remind", "--json", "--now", "2021-06-10T09:30:00+08:00", "--campaign", C2021))
    assert rows and {r["item"] for r in rows} >= {"liaison_form", "weekly_report:2021-06-10"}

    from bot.store.models import OutboxMail

    intake = setup.intake()
    with intake.db.session() as s:
        keys = [k for k in s.scalars(select(OutboxMail.key).where(OutboxMail.kind == "remind"))]
    intake.db.dispose()
    first = {k for k in keys if "2020-06-11" in k}
    assert first and all(k.startswith("remind:") and C2020 not in k for k in first)
    second = {k for k in keys if "2021-06-10" in k}
    assert len(second) == len(rows) and all(k.startswith(f"remind:{C2021}:") for k in second)


def test_the_daemons_tick_serves_every_campaign(years):
    """campaign_tick at a moment when both campaigns' digests are due (a Friday 09:00 the
    clock says is 2021's): 2021's digest goes out under its own key, 2020's slot is long past."""
    from bot.daemon import StopFlag, campaign_tick
    from bot.intake import Intake
    from bot.store.models import OutboxMail

    setup = years["setup"]
    moment = datetime.fromisoformat("2021-06-11T09:10:00+08:00")
    intake = Intake.from_config(setup.config(), clock=lambda: moment)
    try:
        assert [c.slug for c in intake.campaigns] == [C2020, C2021]
        campaign_tick(intake, StopFlag())
        with intake.db.session() as s:
            digests = set(s.scalars(select(OutboxMail.key).where(OutboxMail.kind == "digest")))
            weekly = set(s.scalars(select(OutboxMail.key).where(
                OutboxMail.kind == "remind", OutboxMail.key.like(f"remind:{C2021}:%"))))
    finally:
        intake.db.dispose()
    assert {k for k in digests if "2021-06-11" in k} == {f"digest:{C2021}:2021-06-11"}
    assert weekly  # 2021's reminders were queued by the tick or the remind above, under 2021's keys


# -- attribution, step by step (pipeline/decide.attribute) ---------------------------------

def _reading(subject: str = "", *results):
    from bot.mail.message import ParsedMail
    from bot.pipeline.read import Reading, ReadFile

    mail = ParsedMail(message_id=None, subject=subject, from_addr="", from_name="", reply_to=None, date=None,
                      headers=(), body_text="", attachments=())
    return Reading(mail, None, [ReadFile(f"{n}.docx", "", (), "0" * 64, 1, r) for n, r in enumerate(results)])


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from bot.campaign.definition import load_campaign, shipped

    return shipped(), load_campaign(make_2021_campaign(tmp_path_factory.mktemp("c2021")))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_one_campaign_takes_every_mail(pair):
    from bot.pipeline.decide import attribute

    first, _ = pair
    assert attribute((first,), _reading("2021年安全生产月周报"), _at("2021-06-10T10:00:00+08:00")) is first


def test_the_period_decides_between_campaigns_of_one_theme(pair):
    from bot.forms.result import PARSED, FormResult
    from bot.pipeline.decide import attribute

    both = pair
    a2 = FormResult(kind="progress_table", status=PARSED, form="附件2", campaign=C2020)
    # the same 附件2 fits both years; the subject's 安全生产月 is both years' keyword
    assert attribute(both, _reading("安全生产月 附件2", a2), _at("2021-06-20T10:00:00+08:00")).slug == C2021
    assert attribute(both, _reading("安全生产月 附件2", a2), _at("2020-06-20T10:00:00+08:00")).slug == C2020
    # the last day of a period counts to its end; after both: the latest that had opened
    assert attribute(both, _reading("材料"), _at("2020-06-30T23:59:00+08:00")).slug == C2020
    assert attribute(both, _reading("材料"), _at("2020-07-15T10:00:00+08:00")).slug == C2020
    assert attribute(both, _reading("材料"), _at("2021-07-15T10:00:00+08:00")).slug == C2021
    assert attribute(both, _reading("材料"), _at("2021-05-25T00:00:00+08:00")).slug == C2021  # 2021 opens


def test_subject_keywords_come_before_the_period(pair):
    from bot.pipeline.decide import attribute

    # 2021年安全生产月 names 2021 alone (its longer keyword), even in 2020's June
    assert attribute(pair, _reading("2021年安全生产月联络员推荐表"), _at("2020-06-08T10:00:00+08:00")).slug == C2021


def test_content_comes_first(pair):
    """A form only one campaign has (2021's 附件2 changed) is that campaign's whatever the
    subject and the arrival say; of two forms, the campaign both fit."""
    from dataclasses import replace

    from bot.forms.result import PARSED, FormResult
    from bot.pipeline.decide import attribute

    c2020, c2021 = pair
    changed = tuple(replace(f, title=f.title + "（2021年版）") if f.form == "附件2" else f for f in c2021.forms)
    both = (c2020, replace(c2021, forms=changed))
    new_form = FormResult(kind="progress_table", status=PARSED, form="附件2", campaign=C2021)
    old_form = FormResult(kind="progress_table", status=PARSED, form="附件2", campaign=C2020)
    liaison = FormResult(kind="liaison_form", status=PARSED, form="附件1", campaign=C2020)
    june_2020 = _at("2020-06-20T10:00:00+08:00")
    assert attribute(both, _reading("2020年安全生产月 附件2", new_form), june_2020).slug == C2021
    assert attribute(both, _reading("材料", old_form), _at("2021-06-20T10:00:00+08:00")).slug == C2020
    # 附件1 is the same in both, 2021's 附件2 only in 2021: the mail is 2021's
    assert attribute(both, _reading("材料", liaison, new_form), june_2020).slug == C2021

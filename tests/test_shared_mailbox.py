"""The intake mailbox is the office's everyday mailbox (issue 16, points 1 and 2), through the
real poll: years of old mail, everyday mail from registered units, and an unknown sender who
answers the question about its unit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.forms.blank_forms import fill_progress_docx
from tests.fixtures.commands import run, run_json, weekly_mail
from tests.fixtures.mails import build_mail, docx_bytes
from tests.fixtures.office_files import liaison_docx

CST = timezone(timedelta(hours=8))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _opens(setup, day: str) -> None:
    text = setup.config_path.read_text(encoding="utf-8")
    setup.config_path.write_text(text.replace("end = 2020-06-30\n", f"end = 2020-06-30\nsubmissions_open = {day}\n"),
                                 encoding="utf-8")


def _by_mid(setup) -> dict[str, dict]:
    return {m["message_id"]: m for m in run_json(setup, "messages")}


def test_old_and_everyday_mail_is_kept_but_never_answered_or_counted(make_setup):
    setup = make_setup()
    _opens(setup, "2020-05-25")
    progress_2019 = fill_progress_docx({"launch.events": "7"}, {"header.unit_name": "大观区总工会"})
    # a 2019 letter with last year's 附件2, from a registered unit
    setup.append(build_mail(subject="关于报送2019年安康杯竞赛总结的函", sender="大观区总工会 <dgqzgh@example.test>",
                            message_id="<old-2019@example.test>", date=None,
                            attachments=[("附件2.docx", progress_2019, DOCX)]),
                 datetime(2019, 11, 5, 10, 0, tzinfo=CST))
    # a liaison form sent on 5月29日 in answer to the notice: after submissions open, counts
    setup.append(build_mail(subject="联络员推荐表", sender="宜秀区总工会 <yxqzgh@example.test>",
                            message_id="<liaison-0529@example.test>", date=None,
                            attachments=[("附件1.docx", liaison_docx(), DOCX)]),
                 datetime(2020, 5, 29, 15, 0, tzinfo=CST))
    # June, a registered unit, nothing to do with the campaign
    setup.append(build_mail(subject="关于劳模疗休养名单的报告", sender="太湖县总工会 <thxzgh@example.test>",
                            message_id="<rest-0603@example.test>", date=None, body="附件是我县劳模疗休养名单，请审阅。",
                            attachments=[("劳模疗休养名单.docx", docx_bytes("劳模疗休养人员名单 张三 李四"), DOCX)]),
                 datetime(2020, 6, 3, 9, 0, tzinfo=CST))
    # June, a registered unit that tried to submit something the bot cannot find
    setup.append(build_mail(subject="安全生产月材料", sender="岳西县总工会 <yuexzgh@example.test>",
                            message_id="<try-0604@example.test>", date=None, body="请查收"),
                 datetime(2020, 6, 4, 9, 0, tzinfo=CST))

    proc = run(setup, "poll")
    assert proc.returncode == 0, proc.stderr
    assert "启用前或活动开始前的旧邮件（仅存档） 1" in proc.stdout
    assert "已存档 1 封启用前或活动开始接收报送前的旧邮件" in proc.stderr

    msgs = _by_mid(setup)
    old = msgs["<old-2019@example.test>"]
    assert old["outcome"] == "ignored" and "早于本次活动开始接收报送的日期（2020年5月25日）" in old["reason"]
    assert old["subject"] == "关于报送2019年安康杯竞赛总结的函" and old["from"] == "dgqzgh@example.test"
    assert not old["acknowledged"]
    rest = msgs["<rest-0603@example.test>"]
    assert rest["outcome"] == "ignored" and "不是本次活动的报送" in rest["reason"] and not rest["acknowledged"]
    assert msgs["<liaison-0529@example.test>"]["outcome"] == "accepted"
    assert msgs["<try-0604@example.test>"]["outcome"] == "needs_review"

    answered = {r.rcpt_tos[0] for r in setup.sent}
    assert answered == {"yxqzgh@example.test", "yuexzgh@example.test"}

    # last year's 附件2 is not this year's table
    report = run_json(setup, "report", "--now", "2020-06-29T09:00:00+08:00")
    assert "大观区总工会" not in report["units"] and "大观区总工会" in report["missing_units"]
    status = {u["unit"]: u for u in run_json(setup, "status", "--now", "2020-06-29T09:00:00+08:00")["units"]}
    assert status["大观区总工会"]["items"]["progress_table"]["state"] == "missing"
    assert status["宜秀区总工会"]["items"]["liaison_form"]["state"] == "on_time"

    # a parser change later: reprocessing keeps the old mail set aside and answers nobody again
    before = len(setup.sent)
    assert run(setup, "reprocess", "--all").returncode == 0
    assert _by_mid(setup)["<old-2019@example.test>"]["outcome"] == "ignored"
    assert len(setup.sent) == before


def test_mark_handled_before_going_live(make_setup):
    setup = make_setup()
    for n in range(3):
        setup.append(weekly_mail(mid=f"<handled-{n}@example.test>", subject=f"桐城市总工会周报{n}"),
                     datetime(2020, 6, 2 + n, 9, 0, tzinfo=CST))
    proc = run(setup, "mark-handled")
    assert proc.returncode == 0, proc.stderr
    assert "已存档并标记 3 封邮件为已处理" in proc.stdout
    assert setup.sent == []
    msgs = _by_mid(setup)
    assert all(msgs[f"<handled-{n}@example.test>"]["outcome"] == "ignored" for n in range(3))
    assert "管理员已标记为已处理" in msgs["<handled-0@example.test>"]["reason"]

    # what arrives from now on is the bot's
    setup.append(weekly_mail(mid="<live@example.test>"), datetime(2020, 6, 5, 9, 0, tzinfo=CST))
    assert run(setup, "poll").returncode == 0
    assert _by_mid(setup)["<live@example.test>"]["outcome"] == "accepted"
    assert [r.rcpt_tos for r in setup.sent] == [["tcszgh@example.test"]]
    # and a reprocess does not wake the handled ones
    assert run(setup, "reprocess", "--all").returncode == 0
    assert _by_mid(setup)["<handled-1@example.test>"]["outcome"] == "ignored"
    assert len(setup.sent) == 1


def test_an_unknown_sender_who_names_its_unit_ends_the_conversation(make_setup):
    setup = make_setup()
    stranger = "zhangsan1987@qq.example"
    first = weekly_mail(sender=stranger, subject="本周安全生产月工作情况", mid="<q1@qq.example>",
                        body="本周我单位开展安全生产月隐患排查5次，组织职工观看警示教育片2场，参加职工300人次。")
    setup.append(first, datetime(2020, 6, 9, 10, 0, tzinfo=CST))
    assert run(setup, "poll").returncode == 0
    msgs = _by_mid(setup)
    assert msgs["<q1@qq.example>"]["outcome"] == "needs_review" and msgs["<q1@qq.example>"]["unit"] is None
    question = setup.sent_to(stranger)[0].message
    # the organizers' digest says what the mail waits for
    digest = run(setup, "digest", "--now", "2020-06-09T12:00:00+08:00")
    assert digest.returncode == 0, digest.stderr
    waiting = digest.stdout.split("五、待人工处理的邮件", 1)[1]
    assert "（1 封）" in waiting and f"{stranger}《本周安全生产月工作情况》" in waiting
    assert "待处理：无法确定报送单位" in waiting
    assert "注明贵单位全称" in question.get_body(("plain",)).get_content()

    # the answer quotes our question (whose example names 大观区总工会): only the answer counts
    quoted = question.get_body(("plain",)).get_content()
    answer = build_mail(subject="回复：" + str(question["Subject"]), sender=f"张三 <{stranger}>",
                        message_id="<q2@qq.example>", date=None,
                        body="您好，我们是潜山市总工会。\n\n------------------ 原始邮件 ------------------\n" + quoted,
                        headers=[("In-Reply-To", str(question["Message-ID"]))])
    setup.append(answer, datetime(2020, 6, 9, 11, 0, tzinfo=CST))
    assert run(setup, "poll").returncode == 0

    msgs = _by_mid(setup)
    reply, original = msgs["<q2@qq.example>"], msgs["<q1@qq.example>"]
    assert reply["unit"] == "潜山市总工会" and "已据此重新处理邮件" in reply["reason"]
    assert original["unit"] == "潜山市总工会" and original["outcome"] == "accepted"
    # one question, then one acknowledgement naming the unit; never the question again
    to_stranger = setup.sent_to(stranger)
    assert len(to_stranger) == 2
    second = to_stranger[1].message.get_body(("plain",)).get_content()
    assert "潜山市总工会" in second and "注明贵单位全称" not in second
    notes = [r for r in setup.sent_to("organizer@example.test") if "单位认定" in str(r.message["Subject"])]
    assert len(notes) == 1
    note = notes[0].message.get_body(("plain",)).get_content()
    assert "潜山市总工会" in note and f"intake assign {original['id']}" in note

    status = {u["unit"]: u for u in run_json(setup, "status", "--now", "2020-06-12T09:00:00+08:00")["units"]}
    assert status["潜山市总工会"]["items"]["weekly_report:2020-06-11"]["state"] == "on_time"

    # the address is now known: its next report is that unit's at once
    setup.append(weekly_mail(sender=stranger, subject="本周工作情况", mid="<q3@qq.example>",
                             body="本周我单位开展安全生产月宣传活动3场，参加职工150人次，发放资料500份。"),
                 datetime(2020, 6, 16, 10, 0, tzinfo=CST))
    assert run(setup, "poll").returncode == 0
    third = _by_mid(setup)["<q3@qq.example>"]
    assert third["unit"] == "潜山市总工会" and third["outcome"] == "accepted"
    digest = run(setup, "digest", "--now", "2020-06-17T12:00:00+08:00")
    assert "五、待人工处理的邮件\n目前没有。" in digest.stdout


def test_replies_to_our_mail_wait_for_a_person_without_another_automatic_answer(make_setup):
    setup = make_setup()
    setup.append(weekly_mail(mid="<tc1@example.test>"), datetime(2020, 6, 3, 10, 0, tzinfo=CST))
    stranger = "lisi@163.example"
    setup.append(weekly_mail(sender=stranger, subject="安全生产月周报", mid="<s1@163.example>",
                             body="本周开展安全生产月隐患排查4次，组织职工观看警示教育片1场，参加职工80人次。"),
                 datetime(2020, 6, 3, 10, 5, tzinfo=CST))
    assert run(setup, "poll").returncode == 0
    ack = setup.sent_to("tcszgh@example.test")[0].message
    question = setup.sent_to(stranger)[0].message

    def reply_to(original, sender, mid, text):
        return build_mail(subject="回复：" + str(original["Subject"]), sender=sender, message_id=mid, date=None,
                          body=text + "\n\n-----原始邮件-----\n" + original.get_body(("plain",)).get_content())

    # a registered unit thanks us (or asks a question) in a reply: a person answers, not the bot
    setup.append(reply_to(ack, "桐城市总工会 <tcszgh@example.test>", "<tc2@example.test>", "收到，谢谢！第一周的周报我们已经发过了吗？"),
                 datetime(2020, 6, 3, 11, 0, tzinfo=CST))
    # the stranger answers without a unit the roster knows: no second question
    setup.append(reply_to(question, stranger, "<s2@163.example>", "我们是一个新成立的工会。"),
                 datetime(2020, 6, 3, 11, 5, tzinfo=CST))
    assert run(setup, "poll").returncode == 0
    msgs = _by_mid(setup)
    assert msgs["<tc2@example.test>"]["outcome"] == "needs_review"
    assert "如有询问，请人工答复" in msgs["<tc2@example.test>"]["reason"]
    s2 = msgs["<s2@163.example>"]
    assert s2["outcome"] == "needs_review" and f"intake assign {msgs['<s1@163.example>']['id']}" in s2["reason"]
    assert len(setup.sent_to("tcszgh@example.test")) == 1 and len(setup.sent_to(stranger)) == 1

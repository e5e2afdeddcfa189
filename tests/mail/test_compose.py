"""compose: the headers and bodies of the mail we send, encoded and folded once, read back
by the email package exactly as they were given."""
from __future__ import annotations

import base64
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail.compose import MAX_LINE, header_safe, new_mail, set_alternative, set_text

NOW = datetime(2020, 6, 9, 2, 0, tzinfo=timezone.utc)
SENDER = "安庆市总工会劳动保护部 <aqghljb@126.com>"

# what people put in subjects and names: CJK, full-width forms, ASCII, spaces, emoji
TEXT = st.text(st.sampled_from(list("安全生产月进展情况统计表（）【】：，。 abcXYZ-_0123456789") + ["😀", "㈠", "\u3000"]),
               min_size=0, max_size=200)
# in a display name the email package reads runs of whitespace its own way (an ideographic
# space next to a space vanishes): names here are without ideographic spaces
NAME = st.text(st.sampled_from(list("安全生产月联络员（）：，。 abcXYZ-_0123456789") + ["😀"]), max_size=80)


def _read(msg) -> tuple[bytes, object]:
    raw = msg.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert all(len(line) <= MAX_LINE for line in head.split(b"\r\n")), head
    return raw, message_from_bytes(raw, policy=default)


@settings(max_examples=150, deadline=None)
@given(subject=TEXT, name=NAME)
def test_any_subject_and_name_read_back_as_given(subject, name):
    to = f'"{header_safe(name)}" <liaison@example.test>' if header_safe(name) else "liaison@example.test"
    msg = new_mail(sender=SENDER, to=[to, "second@example.test"], subject=subject,
                   auto_submitted="auto-replied", now=NOW)
    set_text(msg, "已收到。\n")
    _, parsed = _read(msg)
    assert parsed["Subject"] == header_safe(subject, 250)
    addresses = parsed["To"].addresses
    assert [a.addr_spec for a in addresses] == ["liaison@example.test", "second@example.test"]
    # The email package reads a display name's whitespace its own way (runs of spaces as one,
    # and a space between two encoded words where RFC 2047 says there is none: the same with
    # names it folded itself), so the characters are compared without it.
    assert addresses[0].display_name.replace(" ", "") == header_safe(name).replace(" ", "")
    assert parsed["From"].addresses[0].display_name == "安庆市总工会劳动保护部"


def test_an_acknowledgement_is_text_and_html_alternatives_with_every_marker():
    text = "各位好，\n\n" + "已收到你单位报送的《进展情况统计表》，读取 51 项，其中 2 项需更正。" * 3 + "\n"
    html = "<table><tr><td>组织观看警示教育片（　）场</td><td>若干</td></tr></table>"
    refs = " ".join(f"<{n}.{'x' * 30}@example.test>" for n in range(10))
    msg = new_mail(sender=SENDER, to=["yjqzgh@example.test"], subject="回复：迎江区总工会进展情况统计表",
                   auto_submitted="auto-replied", now=NOW, in_reply_to="<abc@example.test>", references=refs)
    set_alternative(msg, text, html)
    raw, parsed = _read(msg)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content() == text
    assert parsed.get_body(("html",)).get_content() == html + "\n"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["References"] == refs and parsed["In-Reply-To"] == "<abc@example.test>"
    assert (parsed["Auto-Submitted"], parsed["X-Auto-Response-Suppress"], parsed["Precedence"]) == (
        "auto-replied", "All", "auto_reply")
    assert parsed["X-Loop"] == "aqghljb@126.com"
    assert parsed["Message-ID"].endswith("@126.com>")
    # the message object itself reads as the parsed one does
    assert msg["Subject"] == "回复：迎江区总工会进展情况统计表"
    assert msg.get_body(("plain",)).get_content() == text


def test_bodies_take_the_encoding_the_email_package_would():
    short = new_mail(sender=SENDER, to=["a@example.test"], subject="x", auto_submitted="auto-generated", now=NOW)
    set_text(short, "短行。\n第二行。\n")
    raw, parsed = _read(short)
    assert parsed["Content-Transfer-Encoding"] == "8bit" and "短行。".encode() in raw
    long = new_mail(sender=SENDER, to=["a@example.test"], subject="x", auto_submitted="auto-generated", now=NOW)
    set_text(long, "很长的一行" * 40 + "\n")
    raw, parsed = _read(long)
    assert parsed["Content-Transfer-Encoding"] == "base64"
    assert parsed.get_content() == "很长的一行" * 40 + "\n"
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert all(len(line) <= 76 for line in body.split(b"\r\n")) and base64.b64decode(body)
    ascii_only = new_mail(sender=SENDER, to=["a@example.test"], subject="x", auto_submitted="auto-generated", now=NOW)
    set_text(ascii_only, "plain ascii\n")
    assert _read(ascii_only)[1]["Content-Transfer-Encoding"] == "7bit"


def test_no_header_can_be_injected_through_a_subject_or_a_reference():
    msg = new_mail(sender=SENDER, to=["a@example.test"], subject="周报\r\nBcc: victim@example.test",
                   auto_submitted="auto-replied", now=NOW, in_reply_to="<a@b>\nX-Evil: 1")
    set_text(msg, "x\n")
    raw, parsed = _read(msg)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert b"\r\nBcc:" not in raw and b"\r\nX-Evil:" not in raw

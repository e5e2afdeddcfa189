from bot.mail.authresults import sender_check
from bot.mail.mime import parse_mail


def mail(*results: str) -> bytes:
    head = "".join(f"Authentication-Results: {r}\r\n" for r in results)
    return (head + "From: 大观区总工会 <dgqzgh@example.test>\r\nTo: aqghljb@126.com\r\nSubject: x\r\n"
            "Message-ID: <a@example.test>\r\n\r\nbody\r\n").encode()


def check(raw: bytes, trusted=()):
    return sender_check(parse_mail(raw), trusted)


def test_126_style_header_passes():
    c = check(mail("126.com; spf=pass smtp.mailfrom=dgqzgh@example.test; dkim=pass header.i=@example.test"))
    assert c.checked and c.spf == "pass" and c.dkim == "pass" and not c.forged
    assert c.summary() == "SPF=pass，DKIM=pass"


def test_spf_fail_without_a_passing_signature_is_forged():
    c = check(mail("mx.126.com;\r\n\tspf=fail (sender not permitted) smtp.mailfrom=dgqzgh@example.test;\r\n\tdkim=none"))
    assert c.forged and c.spf == "fail" and c.dkim == "none"
    assert not check(mail("126.com; spf=fail smtp.mailfrom=x; dkim=pass header.d=example.test")).forged
    assert not check(mail("126.com; spf=softfail smtp.mailfrom=x; dkim=none")).forged


def test_dmarc_decides_when_present():
    assert check(mail("126.com; spf=pass; dkim=fail; dmarc=fail header.from=example.test")).forged
    assert not check(mail("126.com; spf=fail; dkim=pass; dmarc=pass")).forged


def test_a_header_the_sender_wrote_is_not_trusted():
    forged_below = mail("126.com; spf=fail smtp.mailfrom=x; dkim=none",
                        "evil.example; spf=pass; dkim=pass")
    assert check(forged_below).forged  # the top-most is the receiving server's
    assert check(forged_below, ("126.com",)).forged
    only_senders = mail("evil.example; spf=pass; dkim=pass")
    assert not check(only_senders, ("126.com",)).checked  # configured id absent: unchecked


def test_no_header_is_unchecked_not_forged():
    c = check(mail())
    assert not c.checked and not c.forged and c.summary() == "无验证结果"


def test_several_signatures_one_passing_is_enough():
    c = check(mail("126.com; dkim=fail header.d=a.test; dkim=pass header.d=example.test; spf=fail"))
    assert c.dkim == "pass" and not c.forged

"""bot/mail/cloud_links.py: big attachments sent as links, recognised, never fetched."""
from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail import cloud_links
from bot.mail.message import CloudLink
from bot.mail.mime import parse_mail
from tests.fixtures import hostile_mime as M

SENDER = "桐城市总工会 <tcszgh@example.test>"


@pytest.mark.parametrize("url,service", [
    (M.QQ_LINK, "QQ邮箱超大附件"),
    ("http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=2a3b4c&code=9f8e", "QQ邮箱超大附件"),
    ("https://exmail.qq.com/cgi-bin/ftnExs_download?k=0b1c", "QQ邮箱文件中转站"),
    (M.NETEASE_LINK, "网易邮箱超大附件"),
    ("https://mail.126.com/large-attachment-download/index.html?p=x&file=y", "网易邮箱超大附件"),
    ("https://dashi.163.com/html/cloud-attachment-download/index.html?p=z", "网易邮箱文件中转站"),
    (M.ONEDRIVE_LINK, "OneDrive"),
    ("https://onedrive.live.com/?cid=12AB&id=12AB%21105", "OneDrive"),
    ("https://tcszgh-my.sharepoint.com/:w:/g/personal/a_b/EaBc?e=1x", "OneDrive（SharePoint）"),
    ("https://pan.baidu.com/s/1a2B3c4D5e6F7g8H9i0J", "百度网盘"),
    ("https://www.aliyundrive.com/s/AbCdEf12", "阿里云盘"),
])
def test_services(url, service):
    assert cloud_links.find(f"下载地址：{url} 请查收") == (CloudLink(service, url.split(" ")[0], None),)


@pytest.mark.parametrize("text", [
    "详见 https://www.gov.cn/xinwen/2020-06/01/content_5516695.htm 的通知",
    "https://mail.qq.com/ 登录",  # the webmail itself, not a download
    "联系邮箱 tcszgh@qq.com，网址 http://www.tcszgh.gov.cn",
])
def test_ordinary_links_are_not_big_attachments(text):
    assert cloud_links.find(text) == ()


def test_file_names_beside_the_links():
    text = M.qq_big_attachment_text("附件2进展情况统计表.docx") + M.netease_big_attachment_text("联络员.xlsx")
    assert [(link.service, link.filename) for link in cloud_links.find(text)] == [
        ("QQ邮箱超大附件", "附件2进展情况统计表.docx"), ("网易邮箱超大附件", "联络员.xlsx")]
    html = M.onedrive_html("统计表.xlsx")
    assert cloud_links.find(html)[0].filename == "统计表.xlsx"


def test_html_entities_and_repeats():
    html = M.qq_big_attachment_html("附件2.docx")  # the link twice, with &amp;
    assert cloud_links.find(html, M.qq_big_attachment_text("附件2.docx")) == (
        CloudLink("QQ邮箱超大附件", M.QQ_LINK, "附件2.docx"),)


def test_reason_names_the_links_and_asks_for_the_file():
    links = (CloudLink("QQ邮箱超大附件", M.QQ_LINK, "附件2.docx"), CloudLink("OneDrive", "https://1drv.ms/" + "x" * 400))
    reason = cloud_links.reason(links)
    assert "QQ邮箱超大附件（附件2.docx，" + M.QQ_LINK + "）" in reason
    assert "OneDrive（https://1drv.ms/" in reason and reason.count("x") < 300 and "…" in reason
    assert "本系统不打开链接" in reason and "直接作为邮件附件" in reason
    assert cloud_links.ask_unit(links).startswith("您的邮件中的文件（附件2.docx）是以QQ邮箱超大附件、OneDrive下载链接发送的")


def test_a_mail_with_a_qq_big_attachment_is_parsed_without_touching_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    raw = M.files_mail("<qq@x>", SENDER, "统计表", [], body=M.qq_big_attachment_text("附件2.docx"),
                       html=M.qq_big_attachment_html("附件2.docx"))
    mail = parse_mail(raw)
    assert mail.cloud_links == (CloudLink("QQ邮箱超大附件", M.QQ_LINK, "附件2.docx"),)
    assert mail.problems == (cloud_links.reason(mail.cloud_links),)
    assert mail.attachments == ()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_and_only_known_services(text):
    for link in cloud_links.find(text, "https://pan.baidu.com/s/" + text):
        assert link.service and link.url.startswith(("http://", "https://"))

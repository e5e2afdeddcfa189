"""Big attachments sent as download links: recognised in a mail's text, never fetched.

QQ Mail (超大附件), 163/126/yeah.net (文件中转站, 超大附件), Outlook (OneDrive, SharePoint)
and the cloud drives units use (百度网盘 and the like) replace a file that is too big for
the mail by a link to it. Such a mail carries no file: the bot cannot read what is behind
the link (it never opens one: no network at run time, and a link may need a login), so the
mail goes to a person, and the unit is asked to attach the file itself.

Pure: text in, `CloudLink`s out. `reason(links)` is one Chinese line naming the links, for
the admin and the unit alike (`bot.mail.mime` records it among the mail's problems, so the
mail goes to review with it and the acknowledgement quotes it); `ask_unit(links)` is the
sentence asking the unit to attach the file itself.
"""
from __future__ import annotations

import html
import re
import unicodedata

from bot.mail.message import CloudLink

# (service shown to people, host and path pattern after "https?://"). Ordered: the first
# pattern a link matches names its service.
_SERVICES: tuple[tuple[str, str], ...] = (
    ("QQ邮箱超大附件", r"(?:[a-z0-9-]+\.)*mail\.qq\.com/(?:ftn/|cgi-bin/ftnExs_download|cgi-bin/ftnDownload)"),
    ("QQ邮箱超大附件", r"(?:[a-z0-9-]+\.)*ftn\.qq\.com/"),
    ("QQ邮箱文件中转站", r"(?:[a-z0-9-]+\.)*exmail\.qq\.com/cgi-bin/ftnExs_download"),
    ("网易邮箱超大附件", r"(?:[a-z0-9-]+\.)*mail\.(?:163|126|yeah)\.net/large-attachment-download"),
    ("网易邮箱超大附件", r"(?:[a-z0-9-]+\.)*mail\.(?:163|126)\.com/large-attachment-download"),
    ("网易邮箱文件中转站", r"(?:[a-z0-9-]+\.)*(?:dashi|fs|u)\.163\.com/"),
    ("网易邮箱文件中转站", r"(?:[a-z0-9-]+\.)*mail\.(?:163|126)\.com/(?:filehub|fs|js6/s\?func=mbox:getFS)"),
    ("OneDrive", r"1drv\.ms/"),
    ("OneDrive", r"(?:[a-z0-9-]+\.)*onedrive\.(?:live\.)?com/"),
    ("OneDrive（SharePoint）", r"[a-z0-9-]+\.sharepoint(?:\.cn)?\.com/"),
    ("OneDrive（SharePoint）", r"[a-z0-9-]+\.sharepoint\.cn/"),
    ("百度网盘", r"(?:pan|yun)\.baidu\.com/(?:s/|share/)"),
    ("阿里云盘", r"(?:www\.)?(?:aliyundrive|alipan)\.com/s/"),
    ("夸克网盘", r"pan\.quark\.cn/s/"),
    ("腾讯微云", r"share\.weiyun\.com/"),
    ("139邮箱彩云网盘", r"(?:[a-z0-9-]+\.)*caiyun\.139\.com/"),
    ("天翼云盘", r"cloud\.189\.cn/(?:t/|web/share)"),
    ("蓝奏云", r"(?:[a-z0-9-]+\.)*lanzou[a-z]?\.com/"),
)
_SERVICE_RES = tuple((name, re.compile(r"https?://" + pattern, re.I)) for name, pattern in _SERVICES)
# A URL as it stands in text or in an href: up to whitespace, a quote, a bracket or a CJK
# character (a link written straight into Chinese prose ends where the prose goes on).
_URL = re.compile(r"https?://[^\s\"'<>()\[\]{}\u3000-\u303f\u3400-\u9fff\uff00-\uffef]{4,2000}", re.I)
_FILE_NAME = re.compile(
    r"([^\s/\\:*?\"<>|（）()，,。；;：]{1,80}\.(?:docx?|xlsx?|wps|et|pdf|zip|rar|7z|jpe?g|png|mp4|pptx?))"
    r"(?![A-Za-z0-9])", re.I)
MAX_LINKS = 10
_SHOWN_URL = 200  # characters of a link shown in a reason


def find(*texts: str) -> tuple[CloudLink, ...]:
    """The big-attachment and cloud-drive links in the texts (plain text and raw HTML alike),
    each once, in order of appearance; at most MAX_LINKS. A file name written just before a
    link (QQ Mail and 163 put it there) is kept with it."""
    links: list[CloudLink] = []
    seen: dict[str, int] = {}
    for text in texts:
        if not text:
            continue
        text = html.unescape(text) if "&" in text else text
        since = 0  # a file name before a link belongs to it only if no link came between
        for match in _URL.finditer(text):
            url = match.group(0).rstrip(".,;:!?。，；：！？")
            service = _service(url)
            if service is None:
                continue
            name = _anchor_name(text, match.start(), match.end()) or _name_before(text, since, match.start())
            since = match.end()
            if url in seen:  # QQ Mail links the file's icon first, its name after: keep the name
                at = seen[url]
                if name and links[at].filename is None:
                    links[at] = CloudLink(service, url, name)
                continue
            seen[url] = len(links)
            links.append(CloudLink(service, url, name))
            if len(links) >= MAX_LINKS:
                return tuple(links)
    return tuple(links)


def _service(url: str) -> str | None:
    for name, pattern in _SERVICE_RES:
        if pattern.match(url):
            return name
    return None


def _name_before(text: str, since: int, start: int) -> str | None:
    """The last file name in the 300 characters before a link (markup stripped), if any."""
    window = re.sub(r"<[^>]{0,2000}>", " ", text[max(since, start - 2000):start])[-300:]
    names = _FILE_NAME.findall(unicodedata.normalize("NFC", window))
    return names[-1] if names else None


def _anchor_name(text: str, start: int, end: int) -> str | None:
    """The file name an HTML link's own text gives: <a href="LINK">附件2.docx</a>."""
    if not re.search(r"href\s*=\s*[\"']?$", text[max(0, start - 12):start], re.I):
        return None
    close = text.find(">", end)
    stop = text.find("</a", close) if close >= 0 else -1
    if close < 0 or stop < 0 or stop - close > 500:
        return None
    names = _FILE_NAME.findall(unicodedata.normalize("NFC", re.sub(r"<[^>]*>", " ", text[close + 1:stop])))
    return names[0] if names else None


def _shown(url: str) -> str:
    return url if len(url) <= _SHOWN_URL else url[:_SHOWN_URL] + "…"


def reason(links: tuple[CloudLink, ...] | list[CloudLink]) -> str:
    """One Chinese line for the admin: which services, which links, that nothing was fetched."""
    parts = []
    for link in links:
        named = f"{link.filename}，" if link.filename else ""
        parts.append(f"{link.service}（{named}{_shown(link.url)}）")
    return ("邮件中的文件以下载链接发送，邮件本身不含该文件：" + "；".join(parts)
            + "。本系统不打开链接，无法读取其中的文件，请人工查看；请报送单位将文件直接作为邮件附件重新发送")


def ask_unit(links: tuple[CloudLink, ...] | list[CloudLink]) -> str:
    """The sentence for the unit's acknowledgement: attach the file itself."""
    services = "、".join(dict.fromkeys(link.service for link in links))
    names = "、".join(dict.fromkeys(link.filename for link in links if link.filename))
    what = f"文件（{names}）" if names else "文件"
    return (f"您的邮件中的{what}是以{services}下载链接发送的，本系统无法读取链接中的文件。"
            "请将文件直接作为邮件附件重新发送（文件较大时可压缩为 zip，或分几封邮件发送）。")

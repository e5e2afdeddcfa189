from pathlib import Path

import pytest

from bot.campaign.roster import Roster, RosterError

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"


@pytest.fixture(scope="module")
def roster():
    return Roster.load(SAMPLES / "roster.csv")


@pytest.mark.parametrize("text,unit", [
    ("大观区总工会", "大观区总工会"),
    ("大观区工会", "大观区总工会"),
    ("安庆市大观区总工会（盖章）", "大观区总工会"),
    (" 大观区 总工会 ", "大观区总工会"),
    ("潜山县总工会", "潜山市总工会"),
    ("市建设工会", "安庆市建设工会"),
    ("宜城机械公司工会", "宜城机械制造有限公司工会"),
    ("安庆市教育系统工会", "安庆市教育工会"),
])
def test_match_name(roster, text, unit):
    assert roster.match_name(text).name == unit


@pytest.mark.parametrize("subject,unit", [
    ("宜城机械公司工会第一周工作情况", "宜城机械制造有限公司工会"),
    ("桐城市总工会本周工作开展情况", "桐城市总工会"),
    ("材料", None),
    ("大观区工会和宜秀区工会联合报送", None),  # two units named: not guessed
])
def test_find_in_text(roster, subject, unit):
    found = roster.find_in_text(subject)
    assert (found.name if found else None) == unit


def test_addresses(roster):
    assert roster.unit_for_address("YJ_GHB@example.test").name == "迎江区总工会"
    assert roster.unit_for_address("stranger@example.test") is None
    assert roster.unit_for_address("liaison@qq.test", {"liaison@qq.test": "太湖县总工会"}).name == "太湖县总工会"


def test_gbk_csv_and_errors(tmp_path):
    text = "unit,aliases,category,emails\n迎江区总工会,迎江区工会,县（市、区）工会,a@x.test\n"
    roster = Roster.parse(text.encode("gb18030"))
    assert roster.match_name("迎江区工会").name == "迎江区总工会"
    with pytest.raises(RosterError, match="缺少表头"):
        Roster.parse("名称,邮箱\n".encode())
    with pytest.raises(RosterError, match="邮箱"):
        Roster.parse("unit,aliases,category,emails\n甲工会,,,not-an-address\n".encode())
    with pytest.raises(RosterError, match="找不到"):
        Roster.load(tmp_path / "none.csv")


@pytest.mark.parametrize("typed,suggested", [
    ("潜山市", ["潜山市总工会"]),  # the example: a prefix of one unit
    ("潜山", ["潜山市总工会"]),
    ("桐城市总公会", ["桐城市总工会"]),  # a typo
    ("宜城", ["宜城化工集团有限公司工会", "宜城机械制造有限公司工会"]),  # two units start so: both, roster order
    ("安庆市教育", ["安庆市教育工会"]),
    ("北京市总工会", []),
    ("", []),
])
def test_suggest(roster, typed, suggested):
    assert roster.match_name(typed) is None or typed == ""
    assert roster.suggest(typed) == suggested


def test_optional_contact_columns():
    old = Roster.parse("unit,aliases,category,emails\n潜山市总工会,,,qsszgh@x.test\n".encode())
    assert (old.by_name["潜山市总工会"].contact, old.by_name["潜山市总工会"].mobile) == ("", "")
    new = Roster.parse("unit,aliases,category,emails,contact,mobile\n潜山市总工会,,,qsszgh@x.test,高玉兰,13342782718\n"
                       .encode("gb18030"))
    assert (new.by_name["潜山市总工会"].contact, new.by_name["潜山市总工会"].mobile) == ("高玉兰", "13342782718")
    assert new.unit_for_address("qsszgh@x.test").name == "潜山市总工会"

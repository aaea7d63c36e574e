"""The two timestamp converters, created_at, the date-like format (docs/destination.md §6, docs/decisions.md §1.2)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from shared_data import shared_json

from sandbox.actions.timestamps import (
    _ISO_DATE,
    _iso_parse,
    convert_attribute_timestamps,
    convert_created_at,
    convert_valid_timestamp,
    dayjs_parse,
    is_date_like,
    is_iso_date,
    unix_seconds,
)
from sandbox.js.dates import js_date_parse
from sandbox.js.numbers import number_to_string

CASES = shared_json("conformance", "upstream-cases.json")
UNIT = [case for case in CASES if case["kind"] == "unit"]


# --------------------------------------------------------------------------------------------
# Upstream unit cases (utils.test.ts)


@pytest.mark.parametrize("case", [c for c in UNIT if c["function"] == "isIsoDate"], ids=lambda c: c["name"])
def test_upstream_is_iso_date(case: dict) -> None:
    for assertion in case["assertions"]:
        assert is_iso_date(*assertion["args"]) is assertion["returns"], assertion


@pytest.mark.parametrize(
    "case", [c for c in UNIT if c["function"] == "convertValidTimestamp"], ids=lambda c: c["name"]
)
def test_upstream_convert_valid_timestamp(case: dict) -> None:
    for assertion in case["assertions"]:
        assert convert_valid_timestamp(*assertion["args"]) == assertion["returns"]


def test_unit_cases_cover_three_functions() -> None:
    assert len(UNIT) == 13
    assert {c["function"] for c in UNIT} == {"isIsoDate", "resolveIdentifiers", "convertValidTimestamp"}


# --------------------------------------------------------------------------------------------
# Converter A: the attribute table of docs/destination.md §6.3 (createUpdatePerson "should convert only ISO-8601
# strings"), with UTC values.

ATTRIBUTE_TABLE = [
    ("25 Mar 2015", "25 Mar 2015"),
    ("Mar 25 2015", "Mar 25 2015"),
    ("01/01/2019", "01/01/2019"),
    ("15/MAR/18", "15/MAR/18"),
    ("11-Jan-18", "11-Jan-18"),
    ("2018-03-04T12:08:56 PDT", "2018-03-04T12:08:56 PDT"),
    ("2018-03-04T12:08:56.235 PDT", "2018-03-04T12:08:56.235 PDT"),
    ("2019-02-01", 1548979200),
    ("2007-01-02T18:04:07", 1167761047),
    ("2006-01-02T18:04:07Z", 1136225047),
    ("2006-01-02T18:04:07+01:00", 1136221447),
    ("2006-01-02T15:04:05.007", 1136214245),
    ("2006-01-02T15:04:05.007Z", 1136214245),
    ("2006-01-02T15:04:05.007+01:00", 1136210645),
    ("2006-01-02T15:04:05-0800", 1136243045),
    ("2006-01-02T15:04:05.07-0800", 1136243045),
    ("2006-01-02T15:04:05.007-0800", 1136243045),
]


@pytest.mark.parametrize(("value", "expected"), ATTRIBUTE_TABLE)
def test_attribute_table(value: str, expected: object) -> None:
    assert convert_attribute_timestamps({"date": value}) == {"date": expected}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0000-01-01", -2208988800),  # zone-less: dayjs components, years 0–99 are 1900s
        ("0099-12-31T23:59:59", 946684799),  # 99 → 1999
        ("0000-01-01T00:00:00Z", -62167219200),  # Z: V8's exact ISO reading
        ("1969-12-31T23:59:59.5Z", -1),  # floor, not truncation
        ("2024-02-31", 1709337600),  # rolls over to 2024-03-02
        ("2023-02-29", 1677628800),
        ("2024-03-05T24:00", 1709683200),
        ("2024-03-05T24:00:00.000Z", 1709683200),
        ("2024-03-05T12:34", 1709642040),
        ("2023-12-25T14:30:45.123456789-08:00", 1703543445),
        ("2024-01-01", 1704067200),
        ("0007-11-00", -1961971200),  # V8's legacy parser reads it as 7/11/00; dayjs then as 1907-10-31
    ],
)
def test_attribute_conversion_edges(value: str, expected: int) -> None:
    assert convert_attribute_timestamps({"v": value}) == {"v": expected}


@pytest.mark.parametrize(
    "value",
    [
        "2024-13-01",
        "2024-00-10",
        "2023-12-32",
        "2023-12-25T25:30:45",
        "2024-03-05T24:00:01",
        "2024-03-05T24:30",
        "2024-03-05T12:60",
        "2024-03-05T12:34:56+24:00",
        "2024-03-05T12:34:56+23:60",
        "2024-03-05T12:34:56+05",
        "2024-03-05t12:34:56z",
        "2024-03-05T12:34:56.1234567890",
        "2024-03-05T12:34.5",
        " 2024-03-05",
        "2024-03-05 ",
        "2024-03-05\n",
        "2024-3-5",
        "invalid-date",
        "１２３４-01-01",
    ],
)
def test_attribute_conversion_leaves_non_iso_alone(value: str) -> None:
    assert convert_attribute_timestamps({"v": value}) == {"v": value}


def test_attribute_conversion_walks_dicts_not_lists() -> None:
    body = {
        "name": "2024-01-01",
        "id": "2024-01-01T00:00:00Z",
        "nested": {"deep": {"at": "2024-01-01"}, "n": 1, "none": None, "flag": True},
        "list": ["2024-01-01", {"at": "2024-01-01"}],
        "number": 1704067200,
    }
    before = json.dumps(body)
    out = convert_attribute_timestamps(body)
    assert out == {
        "name": 1704067200,
        "id": 1704067200,
        "nested": {"deep": {"at": 1704067200}, "n": 1, "none": None, "flag": True},
        "list": ["2024-01-01", {"at": "2024-01-01"}],
        "number": 1704067200,
    }
    assert json.dumps(body) == before  # the input is not mutated
    assert out["list"] is body["list"]  # non-dicts are copied by reference, as JS does
    assert list(out) == list(body)  # key order kept


# --------------------------------------------------------------------------------------------
# Converter B


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-13-01", 1735689600),
        ("2024-00-10", 1702166400),
        ("2024-01-00", 1703980800),
        ("2023-12-25T25:30:45", 1703554245),
        ("2024-03-05T12:60", 1709643600),
        ("2024-3-5", 1709596800),
        ("2024/03/05", 1709596800),
        ("2024-03-05 12:34:56", 1709642096),
        ("2024-03", 1709251200),
        ("2024-03-05T12", 1709640000),
        ("2024-03-05T12:34:56.789Z", 1709642096),
        ("2024-03-05T12:34:56.789z", 1709642096),
        ("2024-03-05T12:34:56+01:00", 1709638496),
        ("25 Mar 2015", 1427241600),
        ("Mar 25 2015", 1427241600),
        ("01/01/2019", 1546300800),
        ("15/MAR/18", 1521072000),
        ("11-Jan-18", 1515628800),
        ("Tue, 05 Mar 2024 12:34:56 GMT", 1709642096),
        ("abc 2024", 1704067200),
        ("-5", 988675200),
        ("0000-01-01", -2208988800),
        ("1234\n", -23225875200),  # dayjs's regex takes the newline as a separator
    ],
)
def test_valid_timestamp_converts(value: str, expected: int) -> None:
    assert convert_valid_timestamp(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "hello",
        "",
        "  ",
        "T",
        "12:00",
        "1e9",
        "0x10",
        "2018-03-04T12:08:56.235 PDT",
        "2018-03-04T12:08:56 PDT",
        "2024-03-05T12:34:56Z ",
        "2024-03-05T12:34:56+05",
        "2024-03-05T12:34:56+24:00",
        "2024-03-05T24:00:01Z",
        "1712345678",
        "1712345678.123",
        "0",
        "007",
    ],
)
def test_valid_timestamp_leaves_strings(value: str) -> None:
    assert convert_valid_timestamp(value) == value


@pytest.mark.parametrize("value", [1709642096, 1709642096.5, 0, None, True, [], {}, ["2024-01-01"]])
def test_valid_timestamp_leaves_non_strings(value: object) -> None:
    assert convert_valid_timestamp(value) is value


# --------------------------------------------------------------------------------------------
# created_at: docs/decisions.md §1.2, every row of its table


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2006-01-02T18:04:07Z", 1136225047),
        ("2007-01-02T18:04:07", 1167761047),
        ("Mar 25 2015", 1427241600),
        ("25 Mar 2015", 1427241600),
        ("01/01/2019", 1546300800),
        ("11-Jan-18", 1515628800),
        ("Tue, 05 Mar 2024 12:34:56 GMT", 1709642096),
        ("Sun Feb 01 1998 00:00:00 GMT+0000 (GMT)", 886291200),
        ("March 7, 2024", 1709769600),
        ("2024-13-01", 1735689600),
        ("2024/03/05", 1709596800),
        ("2018-03-04T12:08:56 PDT", "2018-03-04T12:08:56 PDT"),
        ("hello", "hello"),
        ("not a date", "not a date"),
        ("n/a", "n/a"),
        ("1700000000", "1700000000"),
        ("", ""),  # left as it is; the actions drop a falsy created_at
        (1700000000, 1700000000),
        (None, None),
    ],
)
def test_created_at_decisions_table(value: object, expected: object) -> None:
    assert convert_created_at(value) == expected


def test_created_at_is_converter_b() -> None:
    for value in ["2024-13-01", "Mar 25 2015", "12:00", "1712345678.5", "x"]:
        assert convert_created_at(value) == convert_valid_timestamp(value)


# --------------------------------------------------------------------------------------------
# date-like (reportDeliveryEvent's timestamp format)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("garbage", False),
        ("", False),
        ("1709642096", True),
        ("1709642096.5", True),
        ("-5", True),
        ("1e+21", False),  # canonical, but 1e24 ms is beyond the Date range
        ("8640000000000", True),
        ("8640000000001", False),
        ("NaN", False),
        ("Infinity", False),
        ("2024-03-05T12:34:56.789Z", True),
        ("Mar 25 2015", True),
        ("2024-13-01", True),
        (".5", True),  # not canonical, so dayjs reads it: V8 skips the dot, "5" is May 1st 2001
        ("1e21", False),  # not canonical; V8 rejects the word "e" after a number
        ("-0", True),
        ("-8640000000000", True),
        (1709642096, True),  # Ajv checks formats on strings only
        (None, True),
    ],
)
def test_is_date_like(value: object, expected: bool) -> None:
    assert is_date_like(value) is expected


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (5.0, "5"),
        (1.5, "1.5"),
        (-2.25, "-2.25"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "1.5e-7"),
        (1e-6, "0.000001"),
        (123456789.125, "123456789.125"),
        (0.1 + 0.2, "0.30000000000000004"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
    ],
)
def test_number_to_string(number: float, text: str) -> None:
    assert number_to_string(number) == text


# --------------------------------------------------------------------------------------------
# Laws

NON_ISO = st.one_of(
    st.from_regex(r"\+?[0-9 ()-]{7,15}", fullmatch=True),  # phone numbers
    st.uuids().map(str),
    st.from_regex(r"(usr|cio|ord)_[a-zA-Z0-9]{4,12}", fullmatch=True),
    st.sampled_from(["25 Mar 2015", "Mar 25 2015", "01/01/2019", "Tue, 05 Mar 2024 12:34:56 GMT"]),
    st.text(),
)


@given(NON_ISO)
def test_strict_iso_never_touches_non_iso_strings(value: str) -> None:
    assume(_ISO_DATE.fullmatch(value) is None)
    assert not is_iso_date(value)
    assert convert_attribute_timestamps({"k": value, "n": {"k": value}}) == {"k": value, "n": {"k": value}}


@st.composite
def zoned_iso(draw: st.DrawFn) -> tuple[str, dt.datetime]:
    moment = draw(
        st.datetimes(
            min_value=dt.datetime(1, 1, 1, 1), max_value=dt.datetime(9999, 12, 30), timezones=st.none()
        )
    )
    offset_minutes = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    aware = moment.replace(tzinfo=zone)
    digits = draw(st.integers(0, 9))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0")
    text = f"{moment.year:04d}" + text[text.index("-") :]
    if digits:
        text += "." + f"{moment.microsecond:06d}{draw(st.integers(0, 999)):03d}"[:digits]
    if offset_minutes == 0 and draw(st.booleans()):
        text += "Z"
    else:
        sign = "+" if offset_minutes >= 0 else "-"
        hours, minutes = divmod(abs(offset_minutes), 60)
        text += f"{sign}{hours:02d}{draw(st.sampled_from([':', '']))}{minutes:02d}"
    return text, aware


@given(zoned_iso())
def test_zoned_iso_converts_to_the_same_instant_as_python(case: tuple[str, dt.datetime]) -> None:
    text, aware = case
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    expected = (aware - epoch) // dt.timedelta(seconds=1)  # exact (total_seconds() is a float)
    assert is_iso_date(text)
    assert convert_attribute_timestamps({"at": text}) == {"at": expected}
    assert convert_valid_timestamp(text) == expected


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.sampled_from(["2024-01-01", "2024-03-05T12:34:56Z"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=5), JSONISH, max_size=6))
def test_attribute_conversion_is_idempotent(body: dict) -> None:
    once = convert_attribute_timestamps(body)
    assert convert_attribute_timestamps(once) == once


@given(st.one_of(st.text(), st.integers(), st.none(), st.sampled_from(["2024-13-01", "Mar 25 2015"])))
def test_valid_timestamp_is_idempotent(value: object) -> None:
    once = convert_valid_timestamp(value)
    assert convert_valid_timestamp(once) == once


@given(st.from_regex(r"[0-9]+(\.[0-9]+)?", fullmatch=True))
def test_digit_strings_stay_strings_under_b(value: str) -> None:
    assume(value[-1:] != "\n")
    assert convert_valid_timestamp(value) == value
    assert convert_created_at(value) == value


@st.composite
def iso_shaped(draw: st.DrawFn) -> str:
    """Every shape the isostring regex admits, with fields in and out of range."""
    text = f"{draw(st.integers(0, 9999)):04d}-{draw(st.integers(0, 99)):02d}-{draw(st.integers(0, 99)):02d}"
    if draw(st.booleans()):
        text += f"T{draw(st.integers(0, 99)):02d}:{draw(st.integers(0, 99)):02d}"
        if draw(st.booleans()):
            text += f":{draw(st.integers(0, 99)):02d}"
        if draw(st.booleans()):
            text += "." + draw(st.from_regex(r"[0-9]{1,9}", fullmatch=True))
        zone = draw(st.sampled_from(["", "Z", "+", "-"]))
        if zone in "+-" and zone:
            hh, mm = draw(st.integers(0, 99)), draw(st.integers(0, 99))
            zone += f"{hh:02d}{draw(st.sampled_from([':', '']))}{mm:02d}"
        text += zone
    return text


@given(iso_shaped())
def test_iso_fast_path_agrees_with_the_full_parser(text: str) -> None:
    match = _ISO_DATE.fullmatch(text)
    assert match is not None
    assert _iso_parse(match) == js_date_parse(text)


@given(iso_shaped())
def test_attribute_conversion_follows_dayjs(text: str) -> None:
    """A converts exactly the gated strings, to dayjs's reading of them."""
    out = convert_attribute_timestamps({"v": text})["v"]
    if js_date_parse(text) is None:
        assert out == text
    else:
        expected = dayjs_parse(text)
        assert expected is not None
        assert out == unix_seconds(expected)


# -- iso_seconds: the toISOString shapes, told by their separators, agree with _FAST_ISO ----------


def _iso_seconds_by_the_regex(text: str) -> int | None:
    """iso_seconds as it reads every shape: _FAST_ISO, then fromisoformat."""
    from sandbox.actions.timestamps import _FAST_ISO

    if _FAST_ISO.fullmatch(text) is None or text[:2] == "00":
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    epoch = dt.datetime(1970, 1, 1, tzinfo=None if moment.tzinfo is None else dt.UTC)
    return (moment - epoch) // dt.timedelta(seconds=1)


_SHAPES = [
    "2024-03-05T12:34:56.789Z",
    "2024-03-05T12:34:56Z",
    "1969-12-31T23:59:59.999Z",
    "0099-01-01T00:00:00Z",
    "2019-02-01",
    "2024-03-05T10:00:00+01:00",
    "2024-03-05T10:00:00-23:59",
]
_ODD_CHARS = list("0123456789") + ["-", ":", ".", "T", "t", "Z", "z", " ", ",", "+", "٣", "x"]
_ODD = st.sampled_from(_ODD_CHARS)


@given(
    st.sampled_from(_SHAPES),
    st.lists(
        st.tuples(st.sampled_from([4, 7, 10, 13, 16, 19, 20, 22, 23]) | st.integers(0, 24), _ODD), max_size=3
    ),
    st.sampled_from(["", "0", "Z", "+01:00"]),
)
def test_iso_seconds_shapes_agree_with_the_regex(
    shape: str, changes: list[tuple[int, str]], tail: str
) -> None:
    """Any character of the shape replaced (digits out of range, other separators, non-ASCII
    digits), or something appended: the same seconds, or None, as through _FAST_ISO."""
    from sandbox.actions.timestamps import iso_seconds

    chars = list(shape)
    for position, char in changes:
        if position < len(chars):
            chars[position] = char
    text = "".join(chars) + tail
    assert iso_seconds(text) == _iso_seconds_by_the_regex(text)


def test_iso_seconds_shapes_agree_with_the_regex_for_every_single_change() -> None:
    """Every character of each shape replaced by each odd character, with each tail."""
    from sandbox.actions.timestamps import iso_seconds

    for shape in _SHAPES:
        for position in range(len(shape)):
            for char in _ODD_CHARS:
                for tail in ("", "0", "Z", "00"):
                    text = shape[:position] + char + shape[position + 1 :] + tail
                    assert iso_seconds(text) == _iso_seconds_by_the_regex(text), text


def test_iso_seconds_floors_before_the_epoch() -> None:
    from sandbox.actions.timestamps import iso_seconds

    assert iso_seconds("1969-12-31T23:59:59.500Z") == -1
    assert iso_seconds("2024-03-05T12:34:56.789Z") == 1709642096
    assert iso_seconds("2024-03-05T12:34:56+01:00") == 1709642096 - 3600
    # shapes fromisoformat reads and _FAST_ISO does not (week and ordinal dates, basic format, ...)
    for text in (
        "2024-W10-2",
        "2024-065",
        "20240305",
        "2024-03-05T12",
        "2024-03-05 12:34:56Z",
        "2024-03-05T12:34:56+01:75",
    ):
        assert iso_seconds(text) is None and _iso_seconds_by_the_regex(text) is None, text

"""V8's Date.parse and the JS Date arithmetic (sandbox/js/dates.py), with node as the oracle.

The differential tests start ONE node process per test and send it batches of strings as JSON
lines; they are skipped only when `node` is not on PATH. The oracle runs with TZ=UTC, the zone
Segment's servers run in (docs/decisions.md §1.4).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sandbox.actions.timestamps import dayjs_parse, is_date_like, is_iso_date
from sandbox.js.dates import date_utc, js_date_parse, make_date, time_clip

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not on PATH")

# For each string of a JSON array on stdin: [Date.parse(s), dayjs.utc(s) ms, isIsoDate(s),
# date-like(s)], with NaN as null. dayjs's parseDate is the real package when it can be required (set NODE_PATH),
# else the same five steps restated here (dayjs 1.10.7 src/index.js parseDate).
_ORACLE_JS = r"""
const readline = require('readline');
let dayjsUtc;
try {
  const dayjs = require('dayjs');
  dayjs.extend(require('dayjs/plugin/utc'));
  dayjsUtc = (s) => dayjs.utc(s).valueOf();
} catch (e) {
  const REGEX_PARSE = /^(\d{4})[-/]?(\d{1,2})?[-/]?(\d{0,2})[Tt\s]*(\d{1,2})?:?(\d{1,2})?:?(\d{1,2})?[.:]?(\d+)?$/;
  dayjsUtc = (s) => {
    if (!/Z$/i.test(s)) {
      const d = s.match(REGEX_PARSE);
      if (d) {
        const m = d[2] - 1 || 0;
        const ms = (d[7] || '0').substring(0, 3);
        return Date.UTC(d[1], m, d[3] || 1, d[4] || 0, d[5] || 0, d[6] || 0, ms);
      }
    }
    return new Date(s).valueOf();
  };
}
const ISO = new RegExp('^\\d{4}-\\d{2}-\\d{2}((T\\d{2}:\\d{2}(:\\d{2})?)(\\.\\d{1,9})?(Z|(\\+|-)\\d{2}:?\\d{2})?)?$');
const dateLike = (data) => {
  // actions-core's Ajv 'date-like' format
  if (String(Number(data)) === data) return !Number.isNaN(new Date(Number(data) * 1000).valueOf());
  return !Number.isNaN(dayjsUtc(data));
};
const num = (v) => (Number.isNaN(v) ? null : v);
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const out = JSON.parse(line).map((s) => [
    num(Date.parse(s)),
    num(dayjsUtc(s)),
    ISO.test(s) && !Number.isNaN(Date.parse(s)),
    dateLike(s),
  ]);
  process.stdout.write(JSON.stringify(out) + '\n');
});
"""


class NodeOracle:
    """One long-lived node process answering batches of strings."""

    def __init__(self) -> None:
        assert NODE is not None
        env = {**os.environ, "TZ": "UTC"}
        self._proc = subprocess.Popen(
            [NODE, "-e", _ORACLE_JS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )

    def ask(self, strings: list[str]) -> list[tuple[float | None, float | None, bool, bool]]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        # ensure_ascii keeps lone surrogates and line separators out of the line protocol.
        self._proc.stdin.write(json.dumps(strings, ensure_ascii=True) + "\n")
        self._proc.stdin.flush()
        return [tuple(x) for x in json.loads(self._proc.stdout.readline())]  # type: ignore[misc]

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=10)


@pytest.fixture(scope="module")
def oracle() -> Iterator[NodeOracle]:
    if NODE is None:
        pytest.skip("node is not on PATH")
    node = NodeOracle()
    try:
        yield node
    finally:
        node.close()


# --------------------------------------------------------------------------------------------
# A grammar of realistic date-ish pieces

MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ZONES = ["UTC", "GMT", "UT", "Z", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "CET", "BST"]
WORDS = ["abc", "on", "at", "the", "x", "T", "t", "am", "AM", "pm", "PM", "utcx", "Sept", "Mayday"]
SEPARATORS = [" ", " ", " ", "/", "-", ",", ", ", ".", ":", "  ", "T", "\t", "", "::"]
ODD = [
    "(", ")", "+", "-", "(GMT)", "(Pacific Standard Time)", "(a (b) c)", "(unclosed", "\n", "é", "@", "_",
    "\u00a0", "\u2009", "\u3000", "\ufeff", "\u2028", "\u2029", "\x85", "\u200b", "\x00", "\U0001f600",
]  # fmt: skip


def _cased(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.lower(), word.upper(), word[:3], word[:3].upper(), word[:4]])


@st.composite
def _number(draw: st.DrawFn) -> str:
    width = draw(st.sampled_from([1, 1, 2, 2, 2, 3, 4, 4, 4, 5, 6, 9, 11]))
    value = draw(st.integers(0, 10**width - 1))
    return str(value).zfill(draw(st.integers(0, width)))


@st.composite
def _time(draw: st.DrawFn) -> str:
    h = draw(st.integers(0, 25))
    m = draw(st.integers(0, 61))
    text = f"{h:0{draw(st.sampled_from([1, 2]))}d}:{m:02d}"
    if draw(st.booleans()):
        text += f":{draw(st.integers(0, 61)):02d}"
        if draw(st.booleans()):
            text += "." + draw(st.from_regex(r"[0-9]{1,10}", fullmatch=True))
    return text


@st.composite
def _offset(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["+", "-"]))
    h, m = draw(st.integers(0, 25)), draw(st.integers(0, 61))
    form = draw(st.sampled_from(["hh:mm", "hhmm", "h", "hh", "hh:", "hhmmm"]))
    body = {
        "hh:mm": f"{h:02d}:{m:02d}",
        "hhmm": f"{h:02d}{m:02d}",
        "h": f"{h % 10}",
        "hh": f"{h:02d}",
        "hh:": f"{h:02d}:",
        "hhmmm": f"{h:02d}{m:03d}",
    }[form]
    return draw(st.sampled_from(["", "GMT", "UTC", "UT"])) + sign + body


@st.composite
def _iso(draw: st.DrawFn) -> str:
    """ISO-shaped strings with fields in and out of range."""
    year = draw(st.sampled_from(["%04d", "+%06d", "-%06d"])) % draw(st.integers(0, 9999))
    text = year + f"-{draw(st.integers(0, 13)):02d}"
    if draw(st.booleans()):
        text += f"-{draw(st.integers(0, 32)):02d}"
    if draw(st.booleans()):
        text += draw(st.sampled_from(["T", "t", " "])) + draw(_time())
        text += draw(
            st.sampled_from(
                ["", "Z", "z", "+05:30", "-0800", "+24:00", "+23:60", "+05", " PDT", " GMT", "Z "]
            )
        )
    return text


PIECE = st.one_of(
    _number(),
    st.from_regex(r"-?[0-9]{1,14}(\.[0-9]{1,4})?(e[+-]?[0-9]{1,2})?", fullmatch=True),
    _number(),
    _time(),
    _offset(),
    st.sampled_from(MONTHS).flatmap(_cased),
    st.sampled_from(DAYS).flatmap(_cased),
    st.sampled_from(ZONES),
    st.sampled_from(WORDS),
    st.sampled_from(ODD),
)


@st.composite
def date_ish(draw: st.DrawFn) -> str:
    """A string built from date pieces joined by date separators, or an ISO-shaped one."""
    if draw(st.integers(0, 4)) == 0:
        return draw(_iso())
    pieces = draw(st.lists(PIECE, min_size=1, max_size=7))
    out = pieces[0]
    for piece in pieces[1:]:
        out += draw(st.sampled_from(SEPARATORS)) + piece
    return out


# --------------------------------------------------------------------------------------------
# Examples (each observed on Node 20 with TZ=UTC)


def ms(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # docs/decisions.md §1.2 and docs/destination.md §6.4
        ("2006-01-02T18:04:07Z", ms("2006-01-02T18:04:07")),
        ("2007-01-02T18:04:07", ms("2007-01-02T18:04:07")),
        ("Mar 25 2015", ms("2015-03-25")),
        ("25 Mar 2015", ms("2015-03-25")),
        ("01/01/2019", ms("2019-01-01")),
        ("11-Jan-18", ms("2018-01-11")),
        ("15/MAR/18", ms("2018-03-15")),
        ("Tue, 05 Mar 2024 12:34:56 GMT", ms("2024-03-05T12:34:56")),
        ("Sun Feb 01 1998 00:00:00 GMT+0000 (GMT)", ms("1998-02-01")),
        ("March 7, 2024", ms("2024-03-07")),
        ("abc 2024", ms("2024-01-01")),
        ("-5", ms("2001-05-01")),
        ("2024-13-01", None),  # ISO month 13: NaN for V8 (dayjs's own regex reads it, see timestamps)
        ("2024/03/05", ms("2024-03-05")),
        ("2018-03-04T12:08:56 PDT", None),
        ("2018-03-04T12:08:56.235 PDT", None),
        ("hello", None),
        ("not a date", None),
        ("n/a", None),
        ("", None),
        ("  ", None),
        ("T", None),
        ("12:00", None),
        ("1e9", None),
        ("0x10", None),
        ("2024-03-05T12:34:56Z ", None),
        ("2024-03-05T12:34:56+05", None),
        ("2024-03-05T12:34:56+24:00", None),
        ("2024-03-05T24:00:01Z", None),
        # ISO validity (docs/destination.md §6.2)
        ("2024-02-31", ms("2024-03-02")),
        ("2023-02-29", ms("2023-03-01")),
        ("2024-04-31", ms("2024-05-01")),
        ("2024-03-05T24:00", ms("2024-03-06")),
        ("2024-03-05T24:00:00.000Z", ms("2024-03-06")),
        ("2024-03-05T24:30", None),
        ("2024-03-05T23:60", None),
        ("2024-03-05T12:34:56+23:60", None),
        ("0000-01-01T00:00:00Z", -62167219200000.0),
        ("2023-12-25T14:30:45.123456789-08:00", ms("2023-12-25T22:30:45.123")),
        ("2023-12-25T14:30:45.1234567890", ms("2023-12-25T14:30:45.123")),  # V8 takes 10 digits
        ("1969-12-31T23:59:59.5Z", -500.0),
        ("2024-03-05T12:34.5Z", None),  # a fraction needs seconds
        # the legacy parser's composition rules
        ("5", ms("2001-05-01")),
        ("12", ms("2001-12-01")),
        ("13", None),
        ("32", ms("2032-01-01")),
        ("50", ms("1950-01-01")),
        ("100", ms("0100-01-01")),
        ("0 5", ms("2000-05-01")),
        ("2 31", ms("2001-03-03")),
        ("1 2 3", ms("2003-01-02")),
        ("31 1 2", None),
        ("May 32", ms("2032-05-01")),
        ("2 May 32", ms("2032-05-02")),
        ("May", None),
        ("12/25/2023 3:04:05 pm EST", ms("2023-12-25T20:04:05")),
        ("Dec 25, 2023 10:00 AM GMT-0500", ms("2023-12-25T15:00")),
        ("Dec 25 2023 10:00 GMT+5", ms("2023-12-25T05:00")),
        ("Dec 25 2023 10:00 GMT+05:", ms("2023-12-25T05:00")),
        ("Dec 25 2023 10:00 +0530", ms("2023-12-25T04:30")),
        ("Dec 25 2023 10:00 +12345", None),
        ("2024-03-05 12:34:56", ms("2024-03-05T12:34:56")),
        ("2024-03-05 12:34:56.7", ms("2024-03-05T12:34:56.700")),
        ("2024-03-05 12::", ms("2024-03-05T12:00")),
        ("2024-03-05 13:00 PM", None),
        ("2024-03-05 12:00 AM", ms("2024-03-05T00:00")),
        ("x 1 10:00", ms("2001-01-01T10:00")),
        ("Jan 1 275760", 8639977881600000.0),
        ("Sep 13 275760", 8.64e15),
        ("Sep 13 275760 00:00:01", None),  # beyond ±8.64e15 ms
        ("+002024-01-01T00:00:00Z", ms("2024-01-01")),
        ("-000000-01-01T00:00:00Z", None),
        ("2024-01-01\x00garbage", ms("2024-01-01")),  # V8 reads NUL as the end of the string
        ("Monday, January 1, 2024 (local) 10:00:00", ms("2024-01-01T10:00")),
        ("abc2024", None),  # a word glued to the first number
        ("2024 abc", None),  # a word after a number
        ("Jan 1 2024 10:00 )", None),
        ("1 1 2000 10:00 GMT+1193047:", ms("2000-01-01T09:28:16")),  # unsigned 32-bit wrap
        ("1 1 2000 10:00 GMT+596524:", None),  # beyond the largest Smi
    ],
)
def test_js_date_parse_examples(text: str, expected: float | None) -> None:
    assert js_date_parse(text) == expected


def test_result_is_an_integral_float() -> None:
    value = js_date_parse("2024-03-05T12:34:56.789Z")
    assert isinstance(value, float) and value == 1709642096789.0


# --------------------------------------------------------------------------------------------
# Date arithmetic


@given(st.datetimes(min_value=dt.datetime(100, 1, 1), max_value=dt.datetime(9999, 12, 31)))
def test_make_date_agrees_with_python(moment: dt.datetime) -> None:
    expected = (moment - dt.datetime(1970, 1, 1)) // dt.timedelta(milliseconds=1)
    got = make_date(
        moment.year,
        moment.month - 1,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )
    assert got == expected


@given(st.integers(0, 99), st.integers(-30, 30), st.integers(-40, 40))
def test_date_utc_years_0_to_99_are_1900s(year: int, month0: int, day: int) -> None:
    assert date_utc(year, month0, day) == make_date(1900 + year, month0, day)


def test_time_clip_limits() -> None:
    assert time_clip(8.64e15) == 8.64e15
    assert time_clip(-8.64e15) == -8.64e15
    assert time_clip(8.64e15 + 1) is None
    assert time_clip(float("nan")) is None
    assert time_clip(-0.5) == 0.0


# --------------------------------------------------------------------------------------------
# Differential tests against node


@needs_node
@given(st.lists(date_ish(), min_size=1, max_size=100))
@example(["Sun Feb 01 1998 00:00:00 GMT+0000 (GMT)", "11-Jan-18", "abc 2024", "-5", "2024-13-01"])
def test_js_date_parse_matches_node(oracle: NodeOracle, strings: list[str]) -> None:
    answers = oracle.ask(strings)
    for text, (node_ms, _, _, _) in zip(strings, answers, strict=True):
        assert js_date_parse(text) == node_ms, text


@needs_node
@given(st.lists(date_ish(), min_size=1, max_size=100))
@example(["2024-13-01", "0007-11-00", "1234\n", "1e+21", ".5", "-0", "2024-03-05T24:00"])
def test_dayjs_iso_gate_and_date_like_match_node(oracle: NodeOracle, strings: list[str]) -> None:
    answers = oracle.ask(strings)
    for text, (_, node_dayjs, node_iso, node_date_like) in zip(strings, answers, strict=True):
        assert dayjs_parse(text) == node_dayjs, text
        assert is_iso_date(text) is node_iso, text
        assert is_date_like(text) is node_date_like, text


@needs_node
@given(
    st.lists(
        st.text(alphabet="0123456789 -/:.,+()TZtzamjnfebrMAJNFEBRpuslgcdPUSLGCD\t", max_size=20),
        min_size=1,
        max_size=100,
    )
)
def test_js_date_parse_matches_node_on_raw_text(oracle: NodeOracle, strings: list[str]) -> None:
    answers = oracle.ask(strings)
    for text, (node_ms, _, _, _) in zip(strings, answers, strict=True):
        assert js_date_parse(text) == node_ms, text

"""sandbox.replay.config and `cio-sandbox init`: the TOML file, its errors (file, subscription, key path),
the default lookup, and the init round trip (the written file loads back to exactly the presets)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.actions.presets import AUTOMATIC, Subscription
from sandbox.actions.settings import EU_REGION, Settings
from sandbox.cli import main
from sandbox.commands.init import render_config, toml_multiline, toml_string, toml_value
from sandbox.errors import ConfigError
from sandbox.replay.config import DEFAULT_SETTINGS, default_config, load_config, parse_config
from sandbox.subscriptions import parse_subscription
from tests.strategies import json_values

TRACK = """
[[subscriptions]]
name = "Track Event"
subscribe = 'type = "track"'
partnerAction = "trackEvent"
"""


def config_error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cio-sandbox.toml")
    return str(info.value)


# -- loading ---------------------------------------------------------------------------------------


def test_a_full_file() -> None:
    config = parse_config(
        """
batch = true
[settings]
siteId = "site_1"
apiKey = "key_1"
accountRegion = "EU"
"""
        + TRACK
        + """enable_batching = true
batch_size = 20
[subscriptions.mapping]
name = { "@path" = "$.event" }
id = { "@path" = "$.userId" }

[[subscriptions]]
name = "Off"
partnerAction = "deletePerson"
enabled = false
useDefaultMappings = true
""",
        "x.toml",
    )
    assert config.file == "x.toml" and config.batch is True
    assert config.settings == Settings("site_1", "key_1", EU_REGION)
    (sub,) = config.subscriptions  # "Off" is disabled
    assert sub.name == "Track Event" and sub.subscribe == 'type = "track"'
    assert sub.mapping == {
        "name": {"@path": "$.event"},
        "id": {"@path": "$.userId"},
        "enable_batching": True,
        "batch_size": 20,
    }


def test_mapping_as_json_text_equals_the_table() -> None:
    table = parse_config(TRACK + '[subscriptions.mapping]\nname = { "@path" = "$.event" }\n')
    text = parse_config(TRACK + """mapping = '''{"name": {"@path": "$.event"}}'''\n""")
    assert table.subscriptions == text.subscriptions


def test_use_default_mappings_needs_no_mapping() -> None:
    (sub,) = parse_config(TRACK + "useDefaultMappings = true\n").subscriptions
    assert sub.useDefaultMappings and sub.mapping == {}
    assert sub.effective_mapping == next(p for p in AUTOMATIC if p.partnerAction == "trackEvent").mapping


def test_without_subscriptions_the_presets_apply() -> None:
    config = parse_config('[settings]\nsiteId = "s"\napiKey = "k"\n')
    assert config.subscriptions == AUTOMATIC
    assert parse_config("").settings == DEFAULT_SETTINGS


def test_default_lookup(tmp_path: Path) -> None:
    assert load_config(cwd=tmp_path) == default_config()
    assert default_config().is_default
    (tmp_path / "cio-sandbox.toml").write_text(
        '[settings]\nsiteId = "here"\napiKey = "k"\n', encoding="utf-8"
    )
    config = load_config(cwd=tmp_path)
    assert config.settings.site_id == "here"
    assert config.file == str(tmp_path / "cio-sandbox.toml")


# -- errors name the file, the subscription and the key path -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            TRACK + '[subscriptions.mapping]\nname = { "@path" = 3 }\n',
            "cio-sandbox.toml: subscription 'Track Event': mapping/name/@path: should be a string",
        ),
        (
            TRACK + 'mapping = \'{"name": {"@path": 3}}\'\n',
            "cio-sandbox.toml: subscription 'Track Event': mapping/name/@path: should be a string",
        ),
        (
            TRACK + 'mapping = \'{"name": {"@path": }\'\n',
            "cio-sandbox.toml: subscription 'Track Event': mapping: not valid JSON (line 1, column 20 of the string)",
        ),
        (
            TRACK + "mapping = '[1]'\n",
            "cio-sandbox.toml: subscription 'Track Event': mapping: the JSON must be an object",
        ),
        (
            TRACK + '[subscriptions.mapping]\nname = { "@pth" = "$.event" }\n',
            "cio-sandbox.toml: subscription 'Track Event': mapping/name: has an invalid directive: @pth",
        ),
        (
            TRACK + '[subscriptions.mapping]\nnmae = { "@path" = "$.event" }\n',
            "cio-sandbox.toml: subscription 'Track Event': mapping/nmae: trackEvent has no such field",
        ),
        (
            TRACK + "[subscriptions.mapping]\ntimestamp = 2024-01-01T00:00:00Z\n",
            "cio-sandbox.toml: subscription 'Track Event': mapping/timestamp: a TOML date or time",
        ),
        (TRACK, "cio-sandbox.toml: subscription 'Track Event': mapping: is required"),
        (
            TRACK.replace('type = "track"', '(type = "track"') + "useDefaultMappings = true\n",
            "cio-sandbox.toml: subscription 'Track Event': subscribe: '(' is never closed",
        ),
        (
            TRACK.replace("trackEvent", "trackEvnt") + "useDefaultMappings = true\n",
            "cio-sandbox.toml: subscription 'Track Event': partnerAction: must be one of",
        ),
        (
            TRACK + "useDefaultMappings = true\nbatch_size = 500\n",
            "cio-sandbox.toml: subscription 'Track Event': batch_size: must be a whole number from 2 to 100, got 500",
        ),
        (
            TRACK + "useDefaultMappings = true\nenabled = 1\n",
            "cio-sandbox.toml: subscription 'Track Event': enabled: must be true or false, got a number",
        ),
        (
            TRACK + "useDefaultMappings = true\nsubscrbe = 'x'\n",
            "cio-sandbox.toml: subscription 'Track Event': subscrbe: unknown key",
        ),
        (
            TRACK + "useDefaultMappings = true\n" + TRACK + "useDefaultMappings = true\n",
            "cio-sandbox.toml: subscription 'Track Event': name: another subscription has the same name",
        ),
        (
            "[[subscriptions]]\npartnerAction = 'trackEvent'\n",
            "cio-sandbox.toml: subscription '#1': name: is required",
        ),
        ("subscriptions = 3\n", "cio-sandbox.toml: subscriptions: must be an array of tables"),
        ("[settings]\napiKey = 'k'\n", "cio-sandbox.toml: settings/siteId: is required"),
        (
            "[settings]\nsiteId = 's'\napiKey = 'k'\naccountRegion = 'eu-west'\n",
            "cio-sandbox.toml: settings/accountRegion",
        ),
        (
            "[settings]\nsiteId = 's'\napiKey = 'k'\nregion = 'EU'\n",
            "cio-sandbox.toml: settings/region: unknown key",
        ),
        ("batch = 'yes'\n", "cio-sandbox.toml: batch: must be true or false, got a string"),
        ("bacth = true\n", "cio-sandbox.toml: bacth: unknown key"),
        (
            "[settings\n",
            "cio-sandbox.toml: not valid TOML: Expected ']' at the end of a table declaration (at line 1",
        ),
    ],
)
def test_errors_say_where(text: str, expected: str) -> None:
    assert config_error(text).startswith(expected)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.toml: cannot read"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[settings]\nsiteId = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"bad.toml: byte 24: not UTF-8 text"):
        load_config(bad)


# -- init ------------------------------------------------------------------------------------------


def _as_presets(subscriptions: tuple[Subscription, ...]) -> bool:
    """The subscriptions are the 15 presets: same names, actions and mappings, and FQL that parses
    to the same condition (init writes the presets' FQL without their blank lines and indentation)."""

    def key(sub: Subscription) -> tuple[object, ...]:
        fql = None if sub.subscribe is None else parse_subscription(sub.subscribe)
        return (sub.name, sub.partnerAction, sub.mapping, sub.useDefaultMappings, fql)

    return [key(s) for s in subscriptions] == [key(p) for p in AUTOMATIC]


def test_init_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "cio-sandbox.toml"
    assert main(["init", str(path)]) == 0
    config = load_config(path)
    assert _as_presets(config.subscriptions)
    for sub in config.subscriptions:
        assert sub.subscribe is not None and sub.subscribe == sub.subscribe.strip()
        assert all(line == line.strip() for line in sub.subscribe.splitlines())
    assert config.settings == DEFAULT_SETTINGS
    assert config.batch is False
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# cio-sandbox configuration")
    assert "# Track Event: " in text and "# Person ID" in text


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cio-sandbox.toml"
    path.write_text("# mine\n", encoding="utf-8")
    assert main(["init", str(path)]) == 2
    assert "already exists; give --force to overwrite it" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert main(["init", str(path), "--force"]) == 0
    assert _as_presets(load_config(path).subscriptions)


def test_init_into_a_directory(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert _as_presets(load_config(tmp_path / "cio-sandbox.toml").subscriptions)


@pytest.mark.parametrize("given", ["new-project", "new-project/", "a/b/new-project"])
def test_init_new_path_without_suffix_is_a_directory(
    tmp_path: Path, given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`init PATH` for a PATH that does not exist and has no suffix makes the directory and writes
    PATH/cio-sandbox.toml, which `run PATH/...` and `run` inside PATH find without --config."""
    assert main(["init", str(tmp_path / given)]) == 0
    written = tmp_path / given.rstrip("/") / "cio-sandbox.toml"
    assert written.is_file() and f"wrote {written}" in capsys.readouterr().err
    assert load_config(None, cwd=written.parent).file == str(written)


def test_init_toml_name_and_refused_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "staging.toml")]) == 0
    assert _as_presets(load_config(tmp_path / "staging.toml").subscriptions)
    assert main(["init", str(tmp_path / "staging.json")]) == 2
    err = capsys.readouterr().err
    assert err.endswith(
        "staging.json: the configuration is TOML: give a name ending in .toml, or a directory\n"
    )
    assert not (tmp_path / "staging.json").exists()


def test_rendered_custom_subscriptions_load_back() -> None:
    """A mapping holding null cannot be a TOML table: it is written as JSON text and still loads back."""
    custom = parse_config(
        TRACK
        + """mapping = '{"name": {"@path": "$.event"}, "data": {"@if": {"exists": {"@path": "$.x"}, "then": null}}}'\n"""
    ).subscriptions
    text = render_config(custom, Settings("s", "k", EU_REGION))
    config = parse_config(text)
    assert config.subscriptions == custom
    assert config.settings == Settings("s", "k", EU_REGION)


_toml_safe = st.recursive(
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda xs: st.lists(xs, max_size=3) | st.dictionaries(st.text(max_size=6), xs, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=8), _toml_safe, max_size=4))
def test_toml_values_round_trip(value: dict) -> None:
    """Any JSON value without null, written by init's TOML writer, reads back equal with tomllib."""
    text = "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in value.items())
    assert tomllib.loads(text) == value


@given(st.text())
def test_fql_strings_round_trip(text: str) -> None:
    """Subscription text, multi-line or not, comes back exactly (TOML drops a newline after ''')."""
    assert tomllib.loads(f"s = {toml_multiline(text)}\n")["s"] == text


@given(json_values)
def test_json_mapping_text_keeps_any_json(value: object) -> None:
    """The JSON-string form reads any JSON value back unchanged (before mapping validation)."""
    text = f"s = {toml_multiline(json.dumps(value, indent=2))}\n"
    assert json.loads(tomllib.loads(text)["s"]) == value


# -- a mapping reads the same from any source -------------------------------------------------------

_NUMBERS = (
    st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1.0, -0.0, 0.5, 1e21, 1e300, 2**53 + 1, 12345678901234567890])
)
_LITERALS = st.recursive(
    st.booleans() | _NUMBERS | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abcxyz_", min_size=1, max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
"""Mapping values without null (TOML has none) and without directives: literals of any JSON shape."""


@given(
    st.dictionaries(st.sampled_from(["name", "id", "data", "event_id", "timestamp"]), _LITERALS, min_size=1)
)
def test_a_mapping_reads_the_same_from_any_source(mapping: dict) -> None:
    """A TOML table, JSON text in the config, and a JSON subscriptions file (plan's) give the same
    mapping, with JavaScript's numbers: what JSON.parse gives for the same JSON (`1.0` is 1, an
    integer beyond 2^53 is the nearest double)."""
    from sandbox.commands.init import toml_key, toml_value
    from sandbox.js import json as js_json
    from sandbox.replay.config import subscriptions_from_list

    head = '[[subscriptions]]\nname = "S"\npartnerAction = "trackEvent"\n'
    table = (
        head
        + "[subscriptions.mapping]\n"
        + "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in mapping.items())
    )
    text = json.dumps(mapping)
    as_json_text = head + f"mapping = {toml_string(text)}\n"
    as_file = subscriptions_from_list(
        js_json.loads(json.dumps([{"name": "S", "partnerAction": "trackEvent", "mapping": mapping}])),
        "s.json",
    )
    expected = js_json.loads(text)
    readings = [
        parse_config(table).subscriptions[0].mapping,
        parse_config(as_json_text).subscriptions[0].mapping,
        as_file[0].mapping,
    ]
    # json.dumps tells 1 from 1.0 (== does not)
    assert [json.dumps(r, sort_keys=True) for r in readings] == [json.dumps(expected, sort_keys=True)] * 3


def test_the_same_mapping_sends_the_same_bytes_through_plan_and_run(tmp_path: Path) -> None:
    """The issue's example: `1.0` written as JSON text in the config was sent as 1.0 by run and 1 by plan."""
    from sandbox.pipeline import plan
    from sandbox.replay.golden import capture

    config = parse_config(
        '[[subscriptions]]\nname = "S"\npartnerAction = "trackEvent"\n'
        'mapping = \'{"name": "Paid", "id": {"@path": "$.userId"}, "data": {"amount": 1.0, "big": 12345678901234567890}}\'\n'
    )
    event = {
        "type": "track",
        "event": "x",
        "userId": "u1",
        "messageId": "m1",
        "timestamp": "2024-01-01T00:00:00Z",
    }
    (line,) = plan([event], config.settings, list(config.subscriptions))
    assert line.request is not None
    # JavaScript's numbers: 1.0 is the integer 1, the big integer is the nearest double (how that
    # double is written out is JSON.stringify's business, sandbox.js.json)
    expected = {"amount": 1, "big": float(12345678901234567890)}
    attributes = line.request.body["attributes"]
    assert attributes == expected and type(attributes["amount"]) is int
    sent = capture([event], config)["requests"]
    assert [r["body"]["attributes"] for r in sent] == [expected]
    assert type(sent[0]["body"]["attributes"]["amount"]) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('""', "must not be empty"),
        ('"  "', "must not be blank (only whitespace)"),
        ("1", "must be a non-empty string, got a number"),
    ],
)
def test_empty_strings_are_named_as_such(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f'[settings]\nsiteId = {value}\napiKey = "k"\n')
    assert str(caught.value) == f"cio-sandbox.toml: settings/siteId: {message}"
    with pytest.raises(ConfigError) as caught:
        parse_config(
            f'[[subscriptions]]\nname = {value}\npartnerAction = "trackEvent"\nuseDefaultMappings = true\n'
        )
    assert str(caught.value) == f"cio-sandbox.toml: subscription '#1': name: {message}"


@pytest.mark.parametrize("region", ["us", "US", "Us", "eu", "EU", "eU", "us 🇺🇸", "EU 🇪🇺"])
def test_account_region_in_any_letter_case(region: str) -> None:
    config = parse_config(f'[settings]\nsiteId = "s"\napiKey = "k"\naccountRegion = "{region}"\n')
    assert config.settings.region == (EU_REGION if region.lower().startswith("eu") else "US 🇺🇸")

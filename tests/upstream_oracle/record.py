"""Record what Segment's own packages answer for generated FQL texts and mappings.

The answers become fixtures/subscriptions/upstream-oracle.json,
fixtures/mappings/upstream-oracle.json and fixtures/mappings/upstream-oracle-liquid.json, which
tests/test_upstream_oracle.py replays against
sandbox.subscriptions and sandbox.mapping. CI needs neither node nor these packages; only
re-recording does:

    mkdir /tmp/oracle && cd /tmp/oracle && npm init -y && npm install \\
        @segment/fql-ts@1.10.1 @segment/destination-subscriptions@3.37.0 \\
        @segment/actions-core@3.170.0 liquidjs@10.30.1
    python tests/upstream_oracle/record.py /tmp/oracle/node_modules

(actions-core 3.170.0 does not declare its liquidjs dependency, hence the explicit install.)
The cases come from seeded generators below, so a re-recording with the same packages gives the
same files.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ORACLE = Path(__file__).with_name("oracle.js")
SEED = 20261128

# -- FQL ------------------------------------------------------------------------------------------

IDENTS = [
    "type", "event", "name", "userId", "properties.a", "properties.a.b", "traits.x", "context.device.type",
    "properties", "traits", "properties.n", "properties.s", "typo", "AND", "constructor", "properties.a[0]",
    "properties.l.length", "contains", "match", "true", "false", "null", "userIds", "propertiesX",
    "traits.a\\.b", "properties.0", "toString", "properties.items.0.id",
]  # fmt: skip
OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "!", "==", "=!"]
VALUES = [
    '"track"', '"identify"', '"A"', "'A'", '"5"', "5", "-3", "1.5", "1.", "+2", "-", "null", "true", "false",
    '"*abc"', '"abc*"', '"ab*c"', '""', '"a b"', "foo", '"null"', '"true"', "0", "007", '"x"', '"\\"', '"b"',
]  # fmt: skip
CONJUNCTIONS = ["and", "or", "and", "or", "AND", "Or", "&&", ","]
SPACES = [" ", " ", " ", "", "  ", "\t", "\n"]
CHARS = list("tyepvnrpoics.=!<>()\"' \t\n,[]*-+0123456789\\_aANDORnull") + [
    "type", "event", "properties.", "traits.", " and ", " or ", "contains(", "match(", "null", "true",
    "!=", ">=", "<=", '"x"', "'y'", "é", "\r", "userId", "name", "context.",
]  # fmt: skip


def _leaf(r: random.Random, depth: int) -> str:
    roll = r.random()
    space = r.choice
    if roll < 0.6 or depth >= 2:
        return (
            r.choice(IDENTS)
            + space([" ", " ", ""])
            + r.choice(OPERATORS)
            + space([" ", " ", ""])
            + r.choice(VALUES)
        )
    if roll < 0.85:
        function = r.choice(["contains", "match", "!contains", "!match", "! contains"])
        return (
            f"{function}({space(SPACES)}{r.choice(IDENTS)}{space(SPACES)},{space(SPACES)}"
            f"{r.choice(VALUES)}{space(SPACES)})"
        )
    return "(" + space(SPACES) + _expression(r, depth + 1) + space(SPACES) + ")"


def _expression(r: random.Random, depth: int = 0) -> str:
    text = _leaf(r, depth)
    for _ in range(r.randint(0, 3)):
        text += " " + r.choice(CONJUNCTIONS) + " " + _leaf(r, depth)
    return text


def _mutate(r: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(r.randint(1, 3)):
        roll = r.random()
        i = r.randrange(len(chars) + 1)
        if roll < 0.4 and chars:
            del chars[min(i, len(chars) - 1)]
        elif roll < 0.8:
            chars.insert(i, r.choice(list("()=!<>\"' ._-\\,[]a1*")))
        elif chars:
            chars[min(i, len(chars) - 1)] = r.choice(list("()=!<>\"' ._-\\,[]a1*"))
    return "".join(chars)


RESERVED = [
    "Application Installed", "Application Opened", "Application Uninstalled", "Device Created or Updated",
    "Device Deleted", "Relationship Deleted", "User Deleted", "User Suppressed", "User Unsuppressed",
    "Object Deleted", "Report Delivery Event", "Report Content Event",
]  # fmt: skip
CURATED = [
    'type = "identify"', 'type = "track"', 'type = "page"', 'type = "screen"', 'type = "group"', 'type = "alias"',
    'event = "Application Installed" or event = "Application Opened" or event = "Device Created or Updated"',
    'event = "Application Uninstalled" or event = "Device Deleted"',
    'type = "track" and ' + " and ".join(f'event != "{name}"' for name in RESERVED),
    'type = "track"\n  and event != "User Deleted"\n  and event != "Object Deleted"',
    'type = "track" and (event = "A" or event = "B")', '(type = "track" and (event = "A" or event = "B"))',
    'type = "track" and (event = "A" or contains(event, "x"))', 'event = "A" and event = "B" or type = "track"',
    'type = "track" or event = "A" and userId != null', 'event="x"', 'event!="x"', 'event !="x"', 'event != "x"',
    "event = 'A'", 'event = null', 'event != null', 'name = null', 'name != null', 'userId = true',
    'userId = false', 'userId = 5', 'userId != null', 'properties.n = 5', 'properties.n = "5"', 'properties.n != 5',
    'properties.a >=5', 'properties.a >= 5', 'properties.a <= 5', 'properties.a < 5.5', 'properties.a > -3',
    'properties.flag = true', 'properties.flag = false', 'properties.flag != true', 'traits.email != null',
    'traits.email = null', 'context.device.type = "ios"', 'context.app.version >= 2', 'properties.items.0 = 1',
    'properties.items[0] = 1', 'contains(event, "Order")', '!contains(event, "Order")', 'match(event, "Order*")',
    'match(event, "*Completed")', 'match(event, "abc")', '!match(properties.url, "https*")',
    'match(event, "*abc*")', 'contains(type, "t")', 'contains(traits.email, "@")', 'type = "track" AND event = "A"',
    'type = "track" and', 'and type = "track"', 'type =', 'type', '', 'typo', 'type<5', 'type = "a" or',
    'null = "x"', 'properties.a\\.b = 1', 'properties.a-b_c = 1', 'TYPE = "track"', 'type = "track" && event = "A"',
]  # fmt: skip


def fql_texts(r: random.Random, count: int) -> list[str]:
    texts = list(CURATED)
    for _ in range(count):
        roll = r.random()
        if roll < 0.55:
            text = _expression(r)
        elif roll < 0.8:
            text = _mutate(r, _expression(r))
        else:
            text = "".join(r.choice(CHARS) for _ in range(r.randint(0, 25)))
        texts.append(text)
    return texts


EVENT_VALUES: list[Any] = [
    None, "track", "identify", "A", "'A'", "5", 5, 5.5, -3, 1.5, True, False, "", "abc", "xabc", "abcx", "ab*c",
    "null", "true", [1, 2], {"b": 1}, 0, "x", "*abc", "a b", 2, 7, "b", "\\", "=",
]  # fmt: skip
INNER_KEYS = ["a", "b", "n", "s", "l", "0", "x", "device", "type", "a.b", "items", "properties", "length"]


def _inner(r: random.Random, depth: int) -> Any:
    if depth < 2 and r.random() < 0.35:
        return {k: _inner(r, depth + 1) for k in r.sample(INNER_KEYS, r.randint(0, 4))}
    if depth < 2 and r.random() < 0.1:
        return [_inner(r, depth + 1) for _ in range(r.randint(0, 3))]
    return r.choice(EVENT_VALUES)


def events(r: random.Random, count: int) -> list[Any]:
    out: list[Any] = [
        {},
        {"type": "track"},
        {"type": "identify", "event": None, "userId": "u1", "traits": {"email": "a@b.co"}},
        {"type": "track", "event": "User Deleted", "userId": True},
        {
            "type": "track",
            "event": "Order Completed",
            "properties": {"n": 5, "a": 5, "flag": True, "items": [1]},
        },
        {
            "type": "track",
            "event": "abc",
            "properties": {"n": "5", "a": "5", "flag": "true", "url": "https://x"},
        },
        {
            "type": "track",
            "event": "A",
            "name": "n",
            "userId": False,
            "properties": {"a": 5.5, "flag": False},
        },
        {"type": "track", "event": "B", "context": {"device": {"type": "ios"}, "app": {"version": 2}}},
        {"type": "screen", "event": "null", "name": None, "properties": {"a": -3, "a.b": 1, "a-b_c": 1}},
        {"type": "page", "event": "Application Opened", "properties": {"url": "http://x", "a": {"b": 1}}},
        {"type": "track", "event": "Report Delivery Event", "properties": []},
        {"type": "track", "event": "*abc*Completed", "traits": "x", "context": None, "properties": 5},
    ]
    while len(out) < count:
        event: dict[str, Any] = {}
        for key in ("type", "event", "name", "userId", "properties", "traits", "context"):
            if r.random() < 0.6:
                if key in ("properties", "traits", "context"):
                    event[key] = _inner(r, 0) if r.random() < 0.25 else {
                        k: _inner(r, 1) for k in r.sample(INNER_KEYS, r.randint(0, 6))
                    }  # fmt: skip
                else:
                    event[key] = r.choice(EVENT_VALUES)
        out.append(event)
    return out


# -- mappings -------------------------------------------------------------------------------------

PATHS = [
    "$.a", "$.a.b", "a.b", "$.s", "$.s.length", "$.l[0]", "$.l.1", "$.n", "$.z", "$.zz.y", "$.o", "$.l", "$.e.x",
    "$.f.x", "$.nul.x", "", ".", "$.", "$.$.a", "a['b']", 'a["b"]', "a[b]", "$.t", "$.bt", "$.ws", "$.d.x.y", "$.ls",
    "$.u.length", "$.u.0", "$.l.length",
]  # fmt: skip
TEMPLATES = [
    "{{a.b}}", "x{{n}}y", "{{{ s }}}", "{{$.s}}", "{{ l }}", "{{o}}", "{{t}}{{f}}", "{{z}}", "{{fl}}", "{{big}}",
    "{{neg}}", "{{tiny}}", "{{ls}}", "{{e}}", "{{ {a} }}", "{{}}", "{{ a.b }} and {{{a.b}}}", "plain", "{{nul}}",
    "{{u}}", "{{huge}}", "{{third}}",
]  # fmt: skip
DIRECTIVES = [
    "@path", "@path", "@path", "@path", "@template", "@template", "@template", "@if", "@if", "@if", "@literal",
    "@arrayPath", "@case", "@replace", "@merge", "@transform", "@flatten", "@json", "@excludeWhenNull",
]  # fmt: skip


def _raw(r: random.Random, depth: int) -> Any:
    roll = r.random()
    if roll < 0.3:
        return r.choice([None, True, False, 0, 1, -2.5, "", "x", "  ", "$.a", "{{s}}", 1e21, 0.1])
    if roll < 0.45 and depth < 2:
        return [_raw(r, depth + 1) for _ in range(r.randint(0, 3))]
    if roll < 0.55 and depth < 2:
        return {r.choice(["k", "m", "_metadata", "then"]): _raw(r, depth + 1)}
    return _directive(r, depth + 1)


def _operand(r: random.Random, depth: int) -> Any:
    return _directive(r, depth + 1) if depth < 3 and r.random() < 0.7 else _raw(r, 3)


def _directive(r: random.Random, depth: int = 0) -> dict[str, Any]:
    name = r.choice(DIRECTIVES + (["@nope", "@Path"] if r.random() < 0.03 else []))
    if depth > 3:
        name = "@path"
    value: Any
    if name == "@path":
        value = (
            r.choice(PATHS)
            if r.random() < 0.9
            else r.choice([1, None, {"@path": "$.pp"}, {"@template": "a"}, ["$.a"]])
        )
    elif name == "@template":
        value = r.choice(TEMPLATES) if r.random() < 0.9 else r.choice([1, {"@path": "$.tp"}, {}])
    elif name == "@if":
        value = {}
        which = r.choice(["exists", "blank", "exists", "both", "none"])
        if which in ("exists", "both"):
            value["exists"] = _operand(r, depth)
        if which in ("blank", "both"):
            value["blank"] = _operand(r, depth)
        if r.random() < 0.8:
            value["then"] = _operand(r, depth)
        if r.random() < 0.6:
            value["else"] = _operand(r, depth) if r.random() < 0.7 else r.choice(["", 0, False, None, "e"])
    elif name == "@arrayPath":
        value = r.choice(
            [
                [r.choice(PATHS)],
                [r.choice(PATHS), {"v": {"@path": "$.b"}, "w": {"@path": "$.x"}}],
                [r.choice(PATHS), {}],
                [{"@path": "$.o"}, {"v": {"@template": "{{b}}"}}],
                "nope",
                [1],
                [],
            ]
        )
    elif name == "@case":
        value = (
            {"operator": r.choice(["lower", "upper", "title", 1]), "value": _operand(r, depth)}
            if r.random() < 0.9
            else {"value": "x"}
        )
    elif name == "@replace":
        value = {
            "pattern": r.choice(["a", ".", "+", "B", "", "aaaaaaaaaaaaa", "$&", "é"]),
            "value": _operand(r, depth),
        }
        if r.random() < 0.5:
            value["replacement"] = r.choice(["-", "", "$&", "$1", "$$", "xxxxxxxxxxxxx"])
        if r.random() < 0.3:
            value["ignorecase"] = r.choice([True, False, "no"])
        if r.random() < 0.3:
            value["global"] = r.choice([True, False])
        if r.random() < 0.3:
            value["pattern2"] = r.choice(["b", "x"])
            value["replacement2"] = r.choice(["B", None])
    elif name == "@merge":
        objects = [{"@path": "$.o"}, {"p": 1, "q": {"@path": "$.s"}}, {"q": 2}, "str", {"@path": "$.a"}]
        value = {
            "objects": [r.choice(objects) for _ in range(r.randint(0, 3))],
            "direction": r.choice(["left", "right", "up", "LEFT"]),
        }
        if r.random() < 0.1:
            del value["direction"]
    elif name == "@transform":
        value = {
            "apply": {"x": {"@path": "$.a"}, "y": {"@path": "$.s"}},
            "mapping": {"r": {"@path": "$.x.b"}, "t": {"@template": "{{y}}"}},
        }
    elif name == "@flatten":
        value = {"value": _operand(r, depth), "separator": r.choice([".", "_", "", 1])}
        if r.random() < 0.3:
            value["omitArrays"] = True
    elif name == "@json":
        value = {"value": _operand(r, depth), "mode": r.choice(["encode", "decode", "ENCODE", "x"])}
    elif name in ("@literal",):
        value = _raw(r, depth)
    else:  # @excludeWhenNull and the invalid names
        value = _operand(r, depth)
    out: dict[str, Any] = {name: value}
    if r.random() < 0.03:
        out["_metadata"] = {"label": "x"}
    if r.random() < 0.01:
        out["extra"] = 1
    return out


def mappings(r: random.Random, count: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(count):
        keys = [r.choice("pqrstuvwxyz") + str(i) for i in range(r.randint(1, 4))]
        out.append({key: _raw(r, 0) if r.random() < 0.2 else _directive(r) for key in keys})
    return out


DATA: dict[str, Any] = {
    "a": {"b": "B1", "c": [1, 2]}, "s": "str", "l": ["x", {"b": "lb"}, None], "n": 5, "o": {"b": "ob", "x": None},
    "e": "", "f": 0, "nul": None, "t": True, "bt": False, "ws": "  ", "d": {"x": {"y": [1, [2, 3]]}}, "fl": 1.5,
    "big": 1e21, "neg": -0.0, "tiny": 1e-7, "ls": [1, [2, 3], None, "x"], "b": "root-b", "zz": {}, "u": "h€llo😀",
    "huge": 123456789012345678901234567890, "third": 0.1 + 0.2,
}  # fmt: skip


def data_pool(r: random.Random, count: int) -> list[dict[str, Any]]:
    pool = [dict(DATA)]
    while len(pool) < count:
        item = dict(DATA)
        for key in r.sample(sorted(item), r.randint(1, 8)):
            del item[key]
        pool.append(item)
    return pool


LIQUID_TEMPLATES = [
    "{{ s | upcase }}", "{{ a.b | downcase }}", "{% for x in l %}{{x}}{% endfor %}",
    "{% case s %}{% when 'str' %}y{% endcase %}", "{% include 'x' %}", "{% render 'x' %}", "{% layout 'x' %}",
    "{% tablerow x in l %}{% endtablerow %}", "{{ l | map: 'b' }}", "{{ l | join: ',' }}", "{{ n | plus: 1.5 }}",
    "{{ fl | times: 2 }}", "{{ missing }}", "{{ t }}", "{{ nul }}", "{{ o }}", "{{ l }}", "{{ s | size }}",
    "{{ l | size }}", "{{ s | append: '!' }}", "{% if n > 3 %}big{% else %}small{% endif %}",
    "{% assign x = s | upcase %}{{ x }}", "{{ s | reverse }}", "{% raw %}{{x}}{% endraw %}",
    "{{ s | split: 't' | first }}", "{{ big }}", "{{ tiny }}", "{{ neg }}", "{{ fl }}", "{{ n | divided_by: 2 }}",
    "{{ n | divided_by: 2.0 }}", "{{ s | truncate: 2 }}", "{{ s | truncate: 5 }}", "{{ 'a' | concat: l }}",
    "{{ l | where: 'b', 'lb' | size }}", "{% unless t %}u{% endunless %}", "{{ s | default: 'd' }}",
    "{{ e | default: 'd' }}", "{{ l[1].b }}", "{{ a['b'] }}", "{{ s", "{% if %}", "{{ n | abs }}", "{{ -3 | abs }}",
    "{{ 10 | modulo: 3 }}", "{{ s | capitalize }}", "x" * 1001, "x" * 1000, "", "{{ '<a>' | escape }}",
    "{{ s | url_encode }}", "{% comment %}c{% endcomment %}ok", "{{ l | compact | size }}", "{{ bt }}",
    "{{ t | json }}", "{{ o | json }}", "{{ d.x.y }}", "{{ ls }}", "{{ s | slice: 1, 2 }}", "{{ n | round }}",
    "{{ fl | round }}", "{{ fl | ceil }}", "{{ s | type }}", "{{ 0.1 | plus: 0.2 }}", "{{ u | size }}",
    "{{ u | upcase }}", "{{ huge }}", "{{ third }}", "{{ l | first }}", "{{ l | last }}", "{{ s | sort }}",
    "{{ l | uniq }}", "{{ s | newline_to_br }}", "{{ l | group_by: 'b' }}", "{{ s | strip }}", "{{ ws | strip }}",
    "{{ 'a,b' | split: ',' | join: '-' }}", "{{ s | replace: 't', 'T' }}", "{{ s | remove: 't' }}",
    "{% capture c %}{{s}}!{% endcapture %}{{ c }}", "{% if s contains 't' %}has{% endif %}",
    "{% if e == blank %}blank{% endif %}", "{% if nul == nil %}nil{% endif %}", "{{ n | minus: 10 }}",
    "{{ n | at_least: 7 }}", "{{ fl | floor }}", "{{ s | prepend: '>' }}", "{{ 'now' | date: '%Y' | size }}",
    "{{ '2024-03-05T12:00:00Z' | date: '%Y-%m-%d' }}",
]  # fmt: skip


# -- recording ------------------------------------------------------------------------------------


def ask(node_modules: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["node", str(ORACLE), node_modules],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def record_fql(node_modules: str, r: random.Random) -> dict[str, Any]:
    pool = events(r, 48)
    texts = list(dict.fromkeys(fql_texts(r, 30000)))
    answers = ask(node_modules, [{"kind": "fql", "text": t, "events": pool} for t in texts])
    accepted = [(t, a) for t, a in zip(texts, answers, strict=True) if "ast" in a]
    rejected = [(t, a) for t, a in zip(texts, answers, strict=True) if "error" in a]
    curated = set(CURATED)
    keep = [(t, a) for t, a in zip(texts, answers, strict=True) if t in curated]
    keep += [(t, a) for t, a in accepted if t not in curated][:700]
    keep += r.sample([(t, a) for t, a in rejected if t not in curated], min(400, len(rejected)))
    cases = []
    for text, a in keep:
        case: dict[str, Any] = {"text": text}
        if "error" in a:
            case["error"] = a["error"]
        else:
            case["ast"] = a["ast"]
            case["matches"] = "".join(
                "1" if m is True else "0" if m is False else "T" for m in a["matches"]
            )  # T: validate() threw
        cases.append(case)
    return {
        "source": (
            "@segment/destination-subscriptions 3.37.0 (parseFql, validate) on @segment/fql-ts 1.10.1, "
            "recorded by tests/upstream_oracle/record.py"
        ),
        "legend": (
            "ast: parseFql's result ({'\\u0000': 'undefined'} marks a child the parser left undefined); "
            "error: parseFql's error message; matches[i]: validate(ast, events[i]) as 1/0, T when it threw"
        ),
        "events": pool,
        "cases": cases,
    }


def record_mappings(node_modules: str, r: random.Random) -> dict[str, Any]:
    pool = data_pool(r, 16)
    candidates = mappings(r, 6000)
    picks = [r.randrange(len(pool)) for _ in candidates]
    answers = ask(
        node_modules,
        [{"kind": "map", "mapping": m, "data": pool[i]} for m, i in zip(candidates, picks, strict=True)],
    )
    by_kind: dict[str, list[dict[str, Any]]] = {"result": [], "validation": [], "throws": []}
    for mapping, index, a in zip(candidates, picks, answers, strict=True):
        kind = next(iter(a))
        by_kind[kind].append({"mapping": mapping, "data": index, kind: a[kind]})
    cases = by_kind["result"][:600] + by_kind["throws"][:250] + by_kind["validation"][:250]
    return {
        "source": "@segment/actions-core 3.170.0 mapping-kit transform(), recorded by tests/upstream_oracle/record.py",
        "legend": (
            "data: index into data_pool; result: transform()'s output after a JSON round trip; "
            "validation: validate.ts' messages; throws: the message of an error raised while resolving"
        ),
        "data_pool": pool,
        "cases": cases,
    }


def _dump(document: dict[str, Any]) -> str:
    """JSON with one line per list item at the top level: diffable, and short enough to read."""
    lines = ["{"]
    for n, (key, value) in enumerate(document.items()):
        comma = "," if n < len(document) - 1 else ""
        if isinstance(value, list):
            items = [json.dumps(item, ensure_ascii=False) for item in value]
            lines.append(f"{json.dumps(key)}: [")
            lines.extend(f"  {item}," for item in items[:-1])
            lines.extend(f"  {item}" for item in items[-1:])
            lines.append(f"]{comma}")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def record_liquid(node_modules: str) -> dict[str, Any]:
    answers = ask(
        node_modules,
        [{"kind": "map", "mapping": {"v": {"@liquid": t}}, "data": DATA} for t in LIQUID_TEMPLATES],
    )
    cases = []
    for template, a in zip(LIQUID_TEMPLATES, answers, strict=True):
        case: dict[str, Any] = {"template": template}
        if "result" in a:
            case["result"] = a["result"].get("v")
        else:
            case[next(iter(a))] = a[next(iter(a))]
        cases.append(case)
    return {
        "source": "@segment/actions-core 3.170.0 mapping-kit @liquid on liquidjs 10.30.1, recorded by tests/upstream_oracle/record.py",
        "legend": "{'v': {'@liquid': template}} resolved against data; result: the string; throws: the error message",
        "data": DATA,
        "cases": cases,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    node_modules = argv[1]
    targets = {
        ROOT / "fixtures" / "subscriptions" / "upstream-oracle.json": record_fql(
            node_modules, random.Random(SEED)
        ),
        ROOT / "fixtures" / "mappings" / "upstream-oracle.json": record_mappings(
            node_modules, random.Random(SEED)
        ),
        ROOT / "fixtures" / "mappings" / "upstream-oracle-liquid.json": record_liquid(node_modules),
    }
    for path, document in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(document), encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(document['cases'])} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

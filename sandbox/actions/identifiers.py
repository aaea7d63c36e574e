"""Which identifiers a request names its person or object by (`resolveIdentifiers`, docs/destination.md §7.2).

Where it sits: the last step of building an entity body (`buildPayload`), after the payload has
been validated and its timestamps converted; every action except mergePeople calls it.

The first rule that applies wins:

1. `object_id` and `object_type_id` truthy → `{object_id, object_type_id}` (the type defaults
   to `"1"` only when it is absent; `null` or `""` make the rule fail);
2. `person_id` starting with `cio_` → `{cio_id: rest}`;
3. `person_id` an email (ajv-formats' "full" regex, which needs a dot in the domain) → `{email}`;
4. `person_id` truthy → `{id}`;  5. `email` truthy → `{email}`;  6. `anonymous_id` truthy;
7. nothing → None (JS `undefined`: the body then has no `identifiers` key).

Truthiness is JavaScript's: `""`, `0`, `0.0`, `False`, `None` and MISSING are false.
"""

from __future__ import annotations

import re
from typing import Final

from sandbox.errors import InputError
from sandbox.js.values import JSON, MISSING, is_truthy

__all__ = ["is_email", "is_truthy", "resolve_identifiers"]

# ajv-formats fullFormats.email, with the `i` flag. A JS non-unicode `i` folds ASCII letters
# only, hence re.ASCII; JS `$` is the very end, hence fullmatch.
_EMAIL: Final = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
    re.IGNORECASE | re.ASCII,
)


def is_email(value: object) -> bool:
    """ajv-formats' "full" email test (`fullFormats.email.test(value)`) on a string."""
    # The pattern needs an "@": without one there is nothing to match.
    return isinstance(value, str) and "@" in value and _EMAIL.fullmatch(value) is not None


def resolve_identifiers(
    *,
    anonymous_id: JSON = MISSING,
    email: JSON = MISSING,
    object_id: JSON = MISSING,
    object_type_id: JSON = MISSING,
    person_id: JSON = MISSING,
) -> dict[str, JSON] | None:
    """The `identifiers` object of a body, or None where the destination gives `undefined`.

    A `person_id` that is neither a string nor null/absent cannot occur after payload validation
    (Ajv coerces it to a string); the destination would throw a TypeError on it, and so does
    this function, as an InputError.
    """
    if object_type_id is MISSING:
        object_type_id = "1"
    if is_truthy(object_id) and is_truthy(object_type_id):
        return {"object_id": object_id, "object_type_id": object_type_id}
    if person_id is not None and person_id is not MISSING and not isinstance(person_id, str):
        raise InputError(
            f"person_id must be a string, not {type(person_id).__name__} {person_id!r}",
            source="resolveIdentifiers",
        )
    if isinstance(person_id, str):
        if person_id.startswith("cio_"):
            return {"cio_id": person_id[4:]}
        if is_email(person_id):
            return {"email": person_id}
        if person_id:
            return {"id": person_id}
    if is_truthy(email):
        return {"email": email}
    if is_truthy(anonymous_id):
        return {"anonymous_id": anonymous_id}
    return None

"""Action field definitions and the JSON schema actions-core derives from them.

Each action declares its fields (label, type, default mapping, ...). The defaults become the
presets' mappings (`default_values`, mapping-kit's defaultValues), and the fields become the
schema that `sandbox.actions.validation` checks a resolved payload against (`to_json_schema` is
fieldsToJsonSchema, kept for display and documentation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sandbox.js.values import JSON, MISSING

FieldType = Literal["string", "text", "password", "number", "boolean", "object", "datetime"]


@dataclass(frozen=True, slots=True)
class Field:
    """One action field, as the TypeScript `InputField` declares it."""

    label: str
    type: FieldType
    description: str = ""
    required: bool = False
    default: JSON = MISSING
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    minimum: float | None = None
    maximum: float | None = None

    @property
    def json_types(self) -> tuple[str, ...]:
        """The JSON schema type(s) of the field (toJsonSchemaType)."""
        if self.type in ("string", "text", "password"):
            return ("string",)
        if self.type == "datetime":
            return ("string", "number")
        return (self.type,)


Fields = Mapping[str, Field]

ENABLE_BATCHING = Field(
    label="Enable Batching",
    type="boolean",
    description="Set as true to ensure Segment sends data to Customer.io in batches.",
    default=True,
)
BATCH_SIZE = Field(
    label="Batch Size",
    type="number",
    description="Maximum number of events to include in each batch.",
    default=50,
    minimum=2,
    maximum=100,
)
CONVERT_TIMESTAMP = Field(
    label="Convert Timestamps",
    type="boolean",
    description="Convert `timestamp` and any ISO-8601 attribute values to Unix timestamps.",
    default=True,
)
BATCH_FIELDS: dict[str, Field] = {"enable_batching": ENABLE_BATCHING, "batch_size": BATCH_SIZE}


def default_values(fields: Fields) -> dict[str, JSON]:
    """Mirrors mapping-kit defaultValues: every field's default, in field order."""
    return {key: field.default for key, field in fields.items() if field.default is not MISSING}


def to_json_schema(fields: Fields) -> dict[str, JSON]:
    """Mirrors actions-core fieldsToJsonSchema for the field types Customer.io uses."""
    properties: dict[str, JSON] = {}
    required: list[str] = []
    for key, field in fields.items():
        types = field.json_types
        schema: dict[str, JSON] = {"title": field.label, "description": field.description}
        schema["type"] = types[0] if len(types) == 1 else list(types)
        if field.type == "datetime":
            schema["format"] = "date-like"
        elif field.type in ("password", "text"):
            schema["format"] = field.type
        if field.minimum:
            schema["minimum"] = field.minimum
        if field.maximum:
            schema["maximum"] = field.maximum
        if field.default is not MISSING:
            schema["default"] = field.default
        if field.choices:
            schema["enum"] = [value for value, _ in field.choices]
        properties[key] = schema
        if field.required:
            required.append(key)
    return {
        "$schema": "http://json-schema.org/schema#",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }

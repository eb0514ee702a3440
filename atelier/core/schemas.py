"""JSON Schema pieces shared by the services' answers (money, dates, nullable values)."""

from __future__ import annotations

from typing import Any

MONEY: dict[str, Any] = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["140.00"]}
DATE: dict[str, Any] = {"type": "string", "format": "date-time", "examples": ["2020-07-30T00:00:00.000Z"]}
DAY: dict[str, Any] = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T00:00:00\.000Z$",
       "examples": ["2020-07-30T00:00:00.000Z"]}  # midnight UTC of the stored day
INTEGER: dict[str, Any] = {"type": "integer"}
STRING: dict[str, Any] = {"type": "string"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
DECIMAL_ID: dict[str, Any] = {"type": "string", "pattern": "^[0-9]+$"}  # an id echoed as a string: "product_id": "1"


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def record(**properties: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly these members, all present."""
    return {"type": "object", "required": list(properties), "properties": properties, "additionalProperties": False}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}

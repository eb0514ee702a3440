"""What a value in a request may be. One declaration both checks a value and describes it.

Every declaration parses a decoded JSON value (or the text of a query or path parameter) into a
typed Python value, or raises `Invalid`; and it gives the JSON Schema of exactly what it accepts,
for `/openapi.json`. Patterns use explicit character classes only (no `\\s`, `\\d` or `\\w`,
which differ between Python and the ECMA-262 regular expressions of JSON Schema), so that the
document and the validator accept the same strings, character for character.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

PG_INT_MAX = 2_147_483_647  # ids are PostgreSQL `integer` columns
INT64_MAX = 9_223_372_036_854_775_807  # the largest page and count: any integer a client may send as JSON

# The end of the text. Python's `$` also matches before a final newline (ECMA-262's does not), so
# patterns end with `(?!\n)$`, which means the same in both.
END = r"(?!\n)$"
# ECMA-262 WhiteSpace and LineTerminator, which is what `\s` means in a JSON Schema pattern.
WHITESPACE = r"\t\n\x0b\x0c\r\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# A text that must not be empty: no NUL (PostgreSQL text cannot hold it), not only whitespace.
FILLED_TEXT = rf"^[{WHITESPACE}]*[^\x00{WHITESPACE}][^\x00]*{END}"
ANY_TEXT = rf"^[^\x00]*{END}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
# A dot-atom local part (RFC 5322, ASCII) at a host name of two labels or more.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL = rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+{END}"
# An http(s) URL with a host name, an optional port and then no space or control character.
URL = rf"^https?://{_HOST}(?::[0-9]{{1,5}})?(?:[/?#][^\x00-\x20\x7f-\x9f{WHITESPACE}]*)?{END}"


class Invalid(ValueError):
    """A value that is not what its declaration accepts (the message says why, for tests and logs)."""


class Value(ABC, Generic[T]):
    """A declared value: `parse` checks and converts, `schema` describes the same set of values."""

    @abstractmethod
    def parse(self, value: Any) -> T: ...

    @abstractmethod
    def schema(self) -> dict[str, Any]: ...

    def parameter_schema(self) -> dict[str, Any]:
        """The schema of the value as the text of a query or path parameter."""
        return self.schema()


@dataclass(frozen=True, slots=True)
class Integer(Value[int]):
    """An integer in low..high. With `strings`, also the same integer written as a JSON string of
    decimal digits (front ends build bodies from object keys and form fields: `{"sku_id": "13"}`),
    plain ASCII without a sign or leading zeros. A JSON number is an integer by value, as in JSON
    Schema: `4.0` is the integer 4 (no front end writes it; a validator stricter than the document
    would make the document lie), `4.5` is not an integer."""

    low: int
    high: int
    strings: bool = True
    _longest: int = field(init=False, repr=False, compare=False)  # digits of `high`: longer text is out of range

    def __post_init__(self) -> None:
        object.__setattr__(self, "_longest", len(str(self.high)))

    def parse(self, value: Any) -> int:
        # Strings first: every query and path parameter is one (this runs on every GET).
        if type(value) is str:
            # Decimal digits without a leading zero, no longer than `high` (so int() is cheap).
            if not (self.strings and value.isascii() and value.isdigit() and len(value) <= self._longest
                    and (value[0] != "0" or value == "0")):
                raise Invalid(f"not an integer in {self.low}..{self.high}: {value[:40]!r}")
            number = int(value)
        elif type(value) is int:  # type(), not isinstance(): True is an int to isinstance
            number = value
        elif type(value) is float and value.is_integer():
            number = int(value)
        else:
            raise Invalid(f"not an integer in {self.low}..{self.high}: {value!r}"[:200])
        if self.low <= number <= self.high:
            return number
        raise Invalid(f"not an integer in {self.low}..{self.high}: {value!r}")

    def number_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}

    def string_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": decimal_range(self.low, self.high)}

    def schema(self) -> dict[str, Any]:
        if not self.strings:
            return self.number_schema()
        return {"anyOf": [self.number_schema(), self.string_schema()]}

    def parameter_schema(self) -> dict[str, Any]:
        return self.number_schema()


@dataclass(frozen=True, slots=True)
class Boolean(Value[bool]):
    """`true` or `false`; with `strings`, also the JSON strings "true" and "false"."""

    strings: bool = True

    def parse(self, value: Any) -> bool:
        if type(value) is bool:
            return value
        if self.strings and type(value) is str and value in ("true", "false"):
            return value == "true"
        raise Invalid(f"not a boolean: {value!r}")

    def schema(self) -> dict[str, Any]:
        if not self.strings:
            return {"type": "boolean"}
        return {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]}


@dataclass(frozen=True, slots=True)
class Text(Value[str]):
    """A string of low..high characters (code points) matching `pattern`. The one rule for text:
    no NUL, and a text that may not be empty may not be only whitespace either."""

    low: int
    high: int
    pattern: str = ""  # default: FILLED_TEXT when low >= 1, else ANY_TEXT
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.regex))

    @property
    def regex(self) -> str:
        return self.pattern or (FILLED_TEXT if self.low >= 1 else ANY_TEXT)

    def parse(self, value: Any) -> str:
        if type(value) is not str or not self.low <= len(value) <= self.high or not self._compiled.fullmatch(value):
            raise Invalid(f"not a text of {self.low}..{self.high} characters: {value!r}"[:200])
        return value

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": self.high, "pattern": self.regex}
        if self.low:
            schema["minLength"] = self.low
        return schema


def email(longest: int = 60) -> Text:
    """The one rule for email addresses (ASCII dot-atom @ a dotted host name)."""
    return Text(3, longest, EMAIL)


def url(longest: int = 2048) -> Text:
    """The one rule for photo URLs: http or https, a host name, no space or control character."""
    return Text(len("http://a"), longest, URL)


@dataclass(frozen=True, slots=True)
class Keyword(Value[str]):
    """One of `choices`; any other string reads as `fallback` (an unknown `sort` is `relevant`)."""

    choices: tuple[str, ...]
    fallback: str

    def parse(self, value: Any) -> str:
        if type(value) is not str:
            raise Invalid(f"not a string: {value!r}")
        return value if value in self.choices else self.fallback

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "default": self.fallback, "examples": list(self.choices)}


@dataclass(frozen=True, slots=True)
class ListOf(Value[list[T]]):
    """A JSON array of at most `longest` items; with `null_is_empty`, `null` reads as `[]`."""

    item: Value[T]
    longest: int
    null_is_empty: bool = False

    def parse(self, value: Any) -> list[T]:
        if value is None and self.null_is_empty:
            return []
        if type(value) is not list or len(value) > self.longest:
            raise Invalid(f"not a list of at most {self.longest} items")
        return [self.item.parse(item) for item in value]

    def schema(self) -> dict[str, Any]:
        schema = {"type": "array", "maxItems": self.longest, "items": self.item.schema()}
        return {"anyOf": [schema, {"type": "null"}]} if self.null_is_empty else schema


@dataclass(frozen=True, slots=True)
class MapOf(Value[dict[int, T]]):
    """A JSON object whose keys are `key` written as strings (characteristic ids) and values `value`."""

    key: Integer
    value: Value[T]

    def parse(self, value: Any) -> dict[int, T]:
        if type(value) is not dict:
            raise Invalid("not an object")
        return {self.key.parse(k): self.value.parse(v) for k, v in value.items()}

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "propertyNames": self.key.string_schema(),
                "additionalProperties": self.value.schema()}


@dataclass(frozen=True, slots=True)
class Optional(Generic[T]):
    """A member of an Object that may be left out; `default` stands in for it."""

    value: Value[T]
    default: T


@dataclass(frozen=True, slots=True)
class Object(Value[T]):
    """A JSON object with the named members, made into `make(**members)`. Members not declared are
    ignored (front ends send more than they must); a required one missing is invalid."""

    make: Callable[..., T]
    members: dict[str, Value[Any] | Optional[Any]]

    def parse(self, value: Any) -> T:
        if type(value) is not dict:
            raise Invalid("not a JSON object")
        parsed: dict[str, Any] = {}
        for name, member in self.members.items():
            if isinstance(member, Optional):
                parsed[name] = member.value.parse(value[name]) if name in value else member.default
            elif name in value:
                parsed[name] = member.parse(value[name])
            else:
                raise Invalid(f"{name} is missing")
        return self.make(**parsed)

    def schema(self) -> dict[str, Any]:
        properties = {name: (m.value if isinstance(m, Optional) else m).schema() for name, m in self.members.items()}
        required = [name for name, m in self.members.items() if not isinstance(m, Optional)]
        return {"type": "object", "required": required, "properties": properties}


def decimal_range(low: int, high: int) -> str:
    """A regular expression that matches exactly the decimal numerals of low..high (0 <= low <= high),
    written without a sign or leading zeros: `decimal_range(1, 5)` is `^(?:[1-5])(?!\n)$`."""
    if not 0 <= low <= high:
        raise ValueError(f"no numerals for {low}..{high}")
    alternatives: list[str] = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        first = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        last = min(high, 10**digits - 1)
        alternatives += _same_length(str(first), str(last))
    return "^(?:" + "|".join(alternatives) + ")" + END


def _same_length(first: str, last: str) -> list[str]:
    """Patterns for the numerals first..last, which have the same number of digits."""
    if first == last:
        return [first]
    if first == "0" * len(first) and last == "9" * len(last):
        return [_any_digits(len(first))]
    rest = len(first) - 1
    if first[1:] == "0" * rest and last[1:] == "9" * rest:  # every numeral from first[0]… to last[0]…
        return [_digit_range(first[0], last[0]) + _any_digits(rest)]
    if first[0] == last[0]:
        return [first[0] + p for p in _same_length(first[1:], last[1:])]
    low_end = [first[0] + p for p in _same_length(first[1:], "9" * rest)]
    middle = []
    if int(first[0]) + 1 <= int(last[0]) - 1:
        middle = [_digit_range(str(int(first[0]) + 1), str(int(last[0]) - 1)) + _any_digits(rest)]
    high_end = [last[0] + p for p in _same_length("0" * rest, last[1:])]
    return low_end + middle + high_end


def _digit_range(first: str, last: str) -> str:
    return first if first == last else f"[{first}-{last}]"


def _any_digits(count: int) -> str:
    return "" if count == 0 else "[0-9]" if count == 1 else f"[0-9]{{{count}}}"

"""A small checker for the JSON schemas of the MCP tools (the subset they use).

MCP clients usually check arguments against a tool's ``inputSchema`` before calling
it, but nothing obliges them to: the server checks again and answers a bad call with
a tool error naming the argument. Supported keywords: ``type`` (object, string,
integer, number, boolean, array), ``properties``, ``required``,
``additionalProperties: false``, ``enum``, ``minLength``, ``minimum``,
``exclusiveMinimum``, ``items``, ``minItems``, ``maxItems``.
"""

from __future__ import annotations

from typing import Any


class SchemaError(ValueError):
    """An argument does not fit the tool's schema (the message names it)."""


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
}


def check(value: Any, schema: dict[str, Any], where: str = "arguments") -> None:
    """Raise :class:`SchemaError` when ``value`` does not fit ``schema``."""
    kind = schema.get("type")
    if kind is not None:
        ok = isinstance(value, _TYPES[kind])
        if kind in ("integer", "number") and isinstance(value, bool):
            ok = False
        if kind == "integer" and isinstance(value, float):
            ok = value.is_integer()
        if not ok:
            raise SchemaError(f"{where} must be {'an' if kind[0] in 'aeio' else 'a'} {kind}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(repr(c) for c in schema["enum"])
        raise SchemaError(f"{where} must be one of {choices}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        raise SchemaError(f"{where} must not be empty")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(f"{where} must be at least {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise SchemaError(f"{where} must be more than {schema['exclusiveMinimum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise SchemaError(f"{where} needs at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError(f"{where} takes at most {schema['maxItems']} items")
        items = schema.get("items")
        if items is not None:
            for i, v in enumerate(value):
                check(v, items, f"{where}[{i}]")
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                raise SchemaError(f"missing argument {name!r}")
        if schema.get("additionalProperties") is False:
            extra = sorted(set(value) - set(props))
            if extra:
                raise SchemaError(
                    f"unknown argument {extra[0]!r} (this tool takes: {', '.join(props) or 'none'})"
                )
        for name, sub in props.items():
            if name in value:
                check(value[name], sub, name if where == "arguments" else f"{where}.{name}")

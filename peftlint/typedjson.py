"""Dataclasses from JSON with every field checked against its annotation (cache entries).

A cache entry is read back only when it has exactly the shape its dataclass declares: the same
keys, and values of the declared types all the way down. Anything else — a damaged file, an entry
of an older layout, a crafted one — raises :class:`ShapeError`, and the caller rebuilds the entry.

Each type gets one converter function, built once per process: a warm run reads tens of thousands
of values (peft's facts, inventories), and re-inspecting annotations per value cost more than the
JSON parsing. Where a value sits is only worked out when it is wrong.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from typing import Any, Callable, TypeVar, Union

T = TypeVar("T")
Converter = Callable[[Any], Any]


class ShapeError(ValueError):
    """The JSON data does not have the declared shape; the message says where."""


class _Wrong(Exception):
    """A value of the wrong shape; ``path`` grows as the error passes up through containers."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.path = ""


def load(cls: type[T], data: Any, where: str = "") -> T:
    """An instance of the dataclass ``cls`` built from ``data``, or :class:`ShapeError`."""
    try:
        return typing.cast(T, _converter(typing.cast(Any, cls))(data))
    except _Wrong as exc:
        raise ShapeError(f"{where or cls.__name__}{exc.path}: {exc.message}") from None


def check(tp: Any, value: Any, where: str = "value") -> Any:
    """``value`` converted to the type ``tp`` (``list[str]``, ``dict[str, str]``, ``str | None``, a
    dataclass, ...), or :class:`ShapeError`."""
    try:
        return _converter(tp)(value)
    except _Wrong as exc:
        raise ShapeError(f"{where}{exc.path}: {exc.message}") from None


@functools.lru_cache(maxsize=None)
def _converter(tp: Any) -> Converter:
    if tp is Any:
        return _plain
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return _union(typing.get_args(tp))
    if dataclasses.is_dataclass(tp):
        return _dataclass(typing.cast(type, tp))
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        return _list(item)
    if origin is dict:
        _, item = typing.get_args(tp) or (str, Any)
        return _dict(item)
    if tp in _SCALARS:
        return _SCALARS[tp]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp)

    def unknown(value: Any) -> Any:
        raise _Wrong(f"cannot check values of type {tp!r}")

    return unknown


def _union(args: tuple[Any, ...]) -> Converter:
    optional = type(None) in args
    alternatives = [_converter(a) for a in args if a is not type(None)]

    def convert(value: Any) -> Any:
        if value is None and optional:
            return None
        first: _Wrong | None = None
        for alt in alternatives:
            try:
                return alt(value)
            except _Wrong as exc:
                first = first or exc
        raise first or _Wrong("unexpected null")

    return convert


def _dataclass(cls: type) -> Converter:
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = frozenset(f.name for f in fields)
    plan: list[tuple[str, bool, Converter]] = []

    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _Wrong(f"expected an object, got {type(value).__name__}")
        if not names.issuperset(value):
            raise _Wrong(f"unexpected key {sorted(set(value) - names)[0]!r}")
        if not plan:  # converters of the fields are made on first use: dataclasses may refer to themselves
            plan.extend((f.name, f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                         _converter(hints[f.name])) for f in fields)
        kwargs = {}
        for name, required, conv in plan:
            if name in value:
                try:
                    kwargs[name] = conv(value[name])
                except _Wrong as exc:
                    exc.path = f".{name}{exc.path}"
                    raise
            elif required:
                raise _Wrong(f"missing key {name!r}")
        return cls(**kwargs)

    return convert


def _list(item: Any) -> Converter:
    conv = _converter(item)

    def convert(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _Wrong(f"expected a list, got {type(value).__name__}")
        if conv is _str and all(type(v) is str for v in value):
            return list(value)
        out = []
        for i, v in enumerate(value):
            try:
                out.append(conv(v))
            except _Wrong as exc:
                exc.path = f"[{i}]{exc.path}"
                raise
        return out

    return convert


def _dict(item: Any) -> Converter:
    conv = _converter(item)

    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Wrong(f"expected an object, got {type(value).__name__}")
        out = {}
        for k, v in value.items():
            try:
                out[k] = conv(v)
            except _Wrong as exc:
                exc.path = f"[{k!r}]{exc.path}"
                raise
        return out

    return convert


def _enum(cls: type[enum.Enum]) -> Converter:
    members = dict(cls._value2member_map_)

    def convert(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):  # TypeError: an unhashable value (a list, an object)
            raise _Wrong(f"expected one of {sorted(map(str, members))}, got {value!r:.40}") from None

    return convert


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Wrong(f"expected true/false, got {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Wrong(f"expected an integer, got {type(value).__name__}")
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Wrong(f"expected a number, got {type(value).__name__}")
    return float(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Wrong(f"expected a string, got {type(value).__name__}")
    return value


_SCALARS: dict[Any, Converter] = {bool: _bool, int: _int, float: _float, str: _str}


def _plain(value: Any) -> Any:
    """``Any`` fields hold plain JSON data (what ``json.loads`` returns), nothing else."""
    stack = [value]
    while stack:
        v = stack.pop()
        if v is None or isinstance(v, (bool, int, float, str)):
            continue
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise _Wrong("object keys must be strings")
            stack.extend(v.values())
        else:
            raise _Wrong(f"{type(v).__name__} is not JSON data")
    return value

"""Dataclasses from JSON with every field checked against its annotation (cache entries).

A cache entry is read back only when it has exactly the shape its dataclass declares: the same
keys, and values of the declared types all the way down. Anything else — a damaged file, an entry
of an older layout, a crafted one — raises :class:`ShapeError`, and the caller rebuilds the entry.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar, Union

T = TypeVar("T")


class ShapeError(ValueError):
    """The JSON data does not have the declared shape; the message says where."""


def load(cls: type[T], data: Any, where: str = "") -> T:
    """An instance of the dataclass ``cls`` built from ``data``, or :class:`ShapeError`."""
    return _convert(cls, data, where or cls.__name__)


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.lru_cache(maxsize=None)
def _init_fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def _convert(tp: Any, value: Any, where: str) -> Any:
    if tp is Any:
        _check_plain(value, where)
        return value
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where)
            except ShapeError as exc:
                errors.append(str(exc))
        raise ShapeError(errors[0] if errors else f"{where}: unexpected null")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ShapeError(f"{where}: expected an object, got {type(value).__name__}")
        hints = _hints(tp)
        init_fields = _init_fields(tp)
        unknown = set(value) - set(init_fields)
        if unknown:
            raise ShapeError(f"{where}: unexpected key {sorted(unknown)[0]!r}")
        kwargs = {}
        for name, f in init_fields.items():
            if name not in value:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise ShapeError(f"{where}: missing key {name!r}")
                continue
            kwargs[name] = _convert(hints[name], value[name], f"{where}.{name}")
        return tp(**kwargs)
    if origin is list:
        if not isinstance(value, list):
            raise ShapeError(f"{where}: expected a list, got {type(value).__name__}")
        (item,) = typing.get_args(tp) or (Any,)
        return [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ShapeError(f"{where}: expected an object, got {type(value).__name__}")
        _, item = typing.get_args(tp) or (str, Any)
        return {k: _convert(item, v, f"{where}[{k!r}]") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ShapeError(f"{where}: expected true/false, got {type(value).__name__}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ShapeError(f"{where}: expected an integer, got {type(value).__name__}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ShapeError(f"{where}: expected a number, got {type(value).__name__}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ShapeError(f"{where}: expected a string, got {type(value).__name__}")
        return value
    raise ShapeError(f"{where}: cannot check values of type {tp!r}")


def _check_plain(value: Any, where: str) -> None:
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
                raise ShapeError(f"{where}: object keys must be strings")
            stack.extend(v.values())
        else:
            raise ShapeError(f"{where}: {type(v).__name__} is not JSON data")

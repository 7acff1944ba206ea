"""A quicker ``__init__`` for the frozen dataclasses the check path makes by the thousand.

A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__``
(its own ``__setattr__`` refuses), a call per field; this one writes the instance dict once
per field, which is what that call does for a plain attribute. Everything else (equality,
hash, repr, immutability, ``__post_init__``) stays the dataclass's.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give frozen dataclass ``cls`` (no slots, no ``default_factory``, every field in
    ``__init__``) an ``__init__`` with the same parameters that fills ``__dict__``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with an instance dict")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    defaults: dict[str, Any] = {}
    args: list[str] = []
    for f in fields:
        if not f.init or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: only plain fields and defaults")
        if f.default is dataclasses.MISSING:
            args.append(f.name)
        else:
            defaults[f"_d_{f.name}"] = f.default
            args.append(f"{f.name}=_d_{f.name}")
    body = ["    d = self.__dict__"] + [f"    d[{f.name!r}] = {f.name}" for f in fields]
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(args)}) -> None:\n" + "\n".join(body) + "\n"
    namespace: dict[str, Any] = {}
    exec(source, dict(defaults), namespace)  # noqa: S102 - code built from field names only
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    setattr(cls, "__init__", init)  # noqa: B010
    return cls

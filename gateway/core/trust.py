"""Who may sign what: the trusted keys, their roles, and who owns each input topic.

Pure models, validated once: :func:`gateway.config.LoadedConfig.load_trust` reads the trust
file into a :class:`Trust`, and :meth:`gateway.config.Config.input_topics` derives the
:class:`TopicOwner` of every input topic. The core's checks take them as plain values.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.events import EVENT_TYPES, Role

__all__ = ["TopicOwner", "Trust", "TrustedKey"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TopicOwner(_Model):
    """The principal an input topic belongs to: a registry (and its Party) or a Party."""

    registry: str | None
    party: str


class TrustedKey(_Model):
    key_id: str = Field(pattern=r"^[A-Za-z0-9._:-]+$")
    public_key: str
    principal: str = Field(pattern=r"^[A-Za-z0-9-]+$")
    role: Role
    valid_from: datetime
    valid_to: datetime | None = None
    status: Literal["active", "suspended", "revoked"] = "active"

    @model_validator(mode="after")
    def _aware(self) -> TrustedKey:
        for t in (self.valid_from, self.valid_to):
            if t is not None and t.utcoffset() is None:
                raise ValueError(f"key {self.key_id}: validity times need a UTC offset")
        return self


class Trust(_Model):
    keys: tuple[TrustedKey, ...]
    event_roles: dict[str, tuple[Role, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Trust:
        problems = []
        ids = [k.key_id for k in self.keys]
        if len(ids) != len(set(ids)):
            problems.append("key ids must be unique")
        unknown = set(self.event_roles) - set(EVENT_TYPES)
        if unknown:
            problems.append(f"event_roles names unknown event types: {sorted(unknown)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @cached_property
    def by_id(self) -> dict[str, TrustedKey]:
        return {k.key_id: k for k in self.keys}

    def roles_for(self, event_type: str) -> tuple[Role, ...]:
        if event_type in self.event_roles:
            return self.event_roles[event_type]
        et = EVENT_TYPES.get(event_type)
        return et.roles if et else ()

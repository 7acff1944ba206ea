"""Event and audit-entry models: the source of truth for the JSON Schema files in
``schemas/json/`` (the entries are in :mod:`schemas.entries`)."""

from schemas.envelope import SIGNATURE_ATTRIBUTE, Envelope
from schemas.events import EVENT_TYPES, EventType, event_type

__all__ = ["EVENT_TYPES", "SIGNATURE_ATTRIBUTE", "Envelope", "EventType", "event_type"]

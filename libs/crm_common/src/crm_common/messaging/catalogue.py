"""The event catalogue (``events/asyncapi.yaml``): which event types exist and their schemas.

Used by the contract tests, and usable by integrations that want to validate what they receive.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# In the repository (editable install) the catalogue sits at events/asyncapi.yaml; elsewhere point
# CRM_EVENT_CATALOGUE at it.
DEFAULT_PATH = Path(os.environ.get(
    "CRM_EVENT_CATALOGUE",
    Path(__file__).resolve().parents[5] / "events" / "asyncapi.yaml",
))


class UnknownEventType(LookupError):
    pass


class Catalogue:
    def __init__(self, path: Path = DEFAULT_PATH) -> None:
        self.path = path
        self.document: dict[str, Any] = yaml.safe_load(path.read_text())

    @cached_property
    def event_types(self) -> frozenset[str]:
        """Every event type that has a message and a channel of the same address."""
        messages = set(self.document["components"]["messages"])
        channels = {c["address"] for c in self.document["channels"].values()}
        return frozenset(messages & channels)

    def event_types_of(self, service: str) -> frozenset[str]:
        return frozenset(t for t in self.event_types if t.split(".")[1] == service)

    def validator(self, event_type: str) -> jsonschema.protocols.Validator:
        if event_type not in self.event_types:
            raise UnknownEventType(event_type)
        schema = dict(self.document)
        schema["$ref"] = f"#/components/messages/{_escape(event_type)}/payload"
        cls = jsonschema.validators.validator_for({"$schema":
                                                   "https://json-schema.org/draft/2020-12/schema"})
        return cls(schema, format_checker=cls.FORMAT_CHECKER)

    def validate(self, envelope: dict[str, Any]) -> None:
        """Raise ``UnknownEventType`` or ``jsonschema.ValidationError``."""
        self.validator(str(envelope.get("type"))).validate(envelope)


def _escape(pointer_part: str) -> str:
    return pointer_part.replace("~", "~0").replace("/", "~1")

"""Every field that points into another subgraph is nullable, list items included (issue 14).

Such a field (``Meeting.client``, ``Task.assignee``, ``ClientRanking.client``, ...) is answered
by the gateway from the subgraph that owns the entity, which says null for what the caller may
not see or what it does not know. A non-null field would turn that null into a null parent, and
the null would climb to the whole list (``meetings``, ``activities``, ``me { agenda }``). This
walks the committed subgraph SDLs (``gateway/subgraphs/*.graphql``, kept equal to the code by
``tests/gateway/test_supergraph_drift.py``), so a new such field is checked without touching
this test; tests/e2e/test_references_stay_answerable.py shows the behaviour through the gateway.
"""

from __future__ import annotations

import json
from pathlib import Path

from graphql import (
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    TypeNode,
    parse,
)

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"

Objects = dict[str, dict[str, TypeNode]]


def _subgraphs() -> dict[str, tuple[Objects, set[str]]]:
    """Each subgraph's object types (name → field → type) and its entity types (with @key)."""
    out = {}
    for entry in json.loads((GATEWAY / "subgraphs.json").read_text()):
        document = parse((GATEWAY / entry["sdl"]).read_text())
        objects: Objects = {}
        entities = set()
        for d in document.definitions:
            if isinstance(d, (ObjectTypeDefinitionNode, ObjectTypeExtensionNode)):
                fields = objects.setdefault(d.name.value, {})
                fields.update({f.name.value: f.type for f in d.fields or ()})
                if any(directive.name.value == "key" for directive in d.directives or ()):
                    entities.add(d.name.value)
        out[entry["name"]] = (objects, entities)
    return out


def _named(node: TypeNode) -> str:
    while not isinstance(node, NamedTypeNode):
        node = node.type  # type: ignore[attr-defined]
    return node.name.value


def _non_null_parts(node: TypeNode) -> bool:
    """Whether the field, or an item of the list it is, is non-null."""
    if isinstance(node, NonNullTypeNode) and not isinstance(node.type, ListTypeNode):
        return True
    inner = node.type if isinstance(node, NonNullTypeNode) else node
    return isinstance(inner, ListTypeNode) and _non_null_parts(inner.type)


def owners(subgraphs: dict[str, tuple[Objects, set[str]]]) -> dict[str, str]:
    """Each entity's owner: the subgraph that defines most of its fields (the others hold a
    stub, its key, plus the fields they add)."""
    sizes: dict[str, list[tuple[int, str]]] = {}
    for name, (objects, entities) in subgraphs.items():
        for entity in entities:
            sizes.setdefault(entity, []).append((len(objects[entity]), name))
    return {entity: max(found)[1] for entity, found in sizes.items()}


def test_every_field_into_another_subgraph_is_nullable() -> None:
    subgraphs = _subgraphs()
    owner = owners(subgraphs)
    assert owner["Client"] == owner["Employee"] == "clients"
    checked, wrong = [], []
    for name, (objects, _) in subgraphs.items():
        for type_name, fields in objects.items():
            if type_name.startswith("_"):
                continue
            for field, node in fields.items():
                target = _named(node)
                if target in owner and owner[target] != name:
                    checked.append(f"{name}: {type_name}.{field}")
                    if _non_null_parts(node):
                        wrong.append(f"{name}: {type_name}.{field}")
    for expected in ("activities: Meeting.client", "activities: Activity.employee",
                     "tasks: Task.assignee", "tasks: Task.watchers",
                     "tasks: Attachment.createdBy", "analytics: ClientRanking.client"):
        assert expected in checked
    assert wrong == [], wrong

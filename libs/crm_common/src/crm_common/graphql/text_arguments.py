"""Control characters in any text a request carries, refused before it reaches the database.

PostgreSQL cannot store NUL in text: a NUL in a read filter (``clients(filter: {city})``) used to
come back as a database error with the SQL in it (issue 14). Every string of every argument is
checked here, once for every service, before any resolver runs:

- a **query** (or any field below the root of a mutation) that carries a control character in
  any argument is refused as a whole: one GraphQL error, code ``BAD_USER_INPUT``, naming the
  argument (``Argument clients(filter.city) contains a control character (U+0000)...``);
- the arguments of a **mutation's root field** are left to :func:`control_character_problems`,
  which :func:`crm_common.graphql.mutations.mutate` calls before the command: the caller gets a
  ``userError`` ``CONTROL_CHARACTERS`` at the field's path (``["input", "location"]``), as the
  domain's own text rules (``crm_common.text.clean_text``) answer.

What is refused (``crm_common.text.control_character``): every Unicode ``Cc`` character except
tab, line feed and carriage return (multi-line notes keep those; single-line fields still refuse
them through ``clean_text``), and unpaired surrogates (JSON ``\\ud800`` escapes), which cannot be
stored as UTF-8. Text the rules of a field allow is never refused here.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping
from typing import Any

import strawberry
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from crm_common.problems import FieldProblem
from crm_common.text import control_character

__all__ = ["ControlCharacters", "control_character_problems", "refused_strings"]

Path = tuple[str, ...]


def refused_strings(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Each string inside ``value`` (strings, lists, mappings, input objects as Strawberry makes
    them) that holds a refused character: its path and that character."""
    if isinstance(value, str):
        found = control_character(value)
        if found is not None:
            yield path, found
    elif isinstance(value, enum.Enum) or value is None or value is strawberry.UNSET:
        return
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from refused_strings(item, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from refused_strings(item, (*path, str(i)))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from refused_strings(getattr(value, f.name), (*path, f.name))


def _literal(node: ValueNode, variables: Mapping[str, Any], path: Path
             ) -> Iterator[tuple[Path, str]]:
    """The refused strings of an argument as written in the document (variables resolved)."""
    if isinstance(node, StringValueNode):
        yield from refused_strings(node.value, path)
    elif isinstance(node, VariableNode):
        yield from refused_strings(variables.get(node.name.value), path)
    elif isinstance(node, ListValueNode):
        for i, item in enumerate(node.values):
            yield from _literal(item, variables, (*path, str(i)))
    elif isinstance(node, ObjectValueNode):
        for field in node.fields:
            yield from _literal(field.value, variables, (*path, field.name.value))


def _fields(selection_set: SelectionSetNode | None,
            fragments: Mapping[str, FragmentDefinitionNode],
            seen: set[str]) -> Iterator[FieldNode]:
    """Every field of a selection set, at every depth, through fragments (each spread once)."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                yield from _fields(fragments[name].selection_set, fragments, seen)


def _describe(character: str) -> str:
    return f"U+{ord(character):04X}"


class ControlCharacters(SchemaExtension):
    """Refuses a request whose arguments carry a control character, before execution (see the
    module's docstring; the root fields of a mutation are left to ``mutate``)."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and not ctx.result:
            errors = list(self._errors(document.definitions, ctx.operation_name,
                                       ctx.variables or {}))
            if errors:
                ctx.result = ExecutionResult(data=None, errors=errors)
        yield

    @staticmethod
    def _errors(definitions: Any, operation_name: str | None,
                variables: Mapping[str, Any]) -> Iterator[GraphQLError]:
        fragments = {d.name.value: d for d in definitions
                     if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)
                      and (operation_name is None or (d.name and d.name.value == operation_name))]
        for operation in operations[:1]:
            defaults = {v.variable.name.value: v.default_value
                        for v in operation.variable_definitions or () if v.default_value}
            roots = {id(s) for s in operation.selection_set.selections}
            for field in _fields(operation.selection_set, fragments, set()):
                is_root = id(field) in roots
                if is_root and operation.operation == OperationType.MUTATION:
                    continue  # mutate() answers these as userErrors
                for argument in field.arguments or ():
                    value = argument.value
                    if (isinstance(value, VariableNode) and value.name.value not in variables
                            and value.name.value in defaults):
                        value = defaults[value.name.value]
                    for path, character in _literal(value, variables, (argument.name.value,)):
                        where = f"{field.name.value}({'.'.join(path)})"
                        yield GraphQLError(
                            f"Argument {where} contains a control character "
                            f"({_describe(character)}); remove it and try again.",
                            nodes=[argument], extensions={"code": "BAD_USER_INPUT"})
                        return  # one error says enough


def control_character_problems(info: strawberry.Info) -> list[FieldProblem]:
    """The control characters in the arguments of the mutation field ``info`` resolves, as
    ``CONTROL_CHARACTERS`` problems at each string's path (``("input", "location")``)."""
    raw = info._raw_info
    given: Any = raw.variable_values  # graphql-core's VariableValues, or Strawberry's dict
    variables: Mapping[str, Any] = getattr(given, "coerced", given) or {}
    problems = []
    for field in raw.field_nodes[:1]:
        for argument in field.arguments or ():
            for path, character in _literal(argument.value, variables, (argument.name.value,)):
                problems.append(FieldProblem(
                    path, "CONTROL_CHARACTERS",
                    f"This text contains an invisible control character ({_describe(character)});"
                    " remove it and try again."))
    return problems

"""The append-only audit history (DESIGN §4): who, when, which operation, old → new.

Written in the same transaction as the change it describes, through the kit's writer
(``crm_common.history``); the table refuses UPDATE and DELETE (a trigger). ``client_id`` is the
dossier the entry belongs to, or None for entities outside any dossier (employees, client
groups), whose history is read by ``entity_id``. :data:`SPELLING` names the enum fields of each
entity type, so that ``changes`` carry them as the API spells them (``ACTIVE``, not ``active``).
"""

from __future__ import annotations

from crm_clients.adapters.tables import history
from crm_clients.domain.asset import AssetCategory, AssetStatus, Condition, Tracking
from crm_clients.domain.audit import AuditResult
from crm_clients.domain.client import AddressKind, ClientKind, ClientStatus, DocumentKind
from crm_clients.domain.contract import ContractKind, ContractStatus
from crm_clients.domain.employee import EmployeeRole
from crm_common.history import EnumKeys, HistoryWriter, Spelling, diff

_ADDRESS: Spelling = {"kind": AddressKind}

#: entity type → its fields whose values are enums (camelCase, as the API names them)
SPELLING: dict[str, Spelling] = {
    "client": {"kind": ClientKind, "status": ClientStatus,
               "documentDescriptions": EnumKeys(DocumentKind), "addresses": _ADDRESS},
    "address": _ADDRESS,
    "contract": {"kind": ContractKind, "status": ContractStatus},
    "employee": {"role": EmployeeRole},
    "asset_type": {"category": AssetCategory, "tracking": Tracking},
    "asset": {"status": AssetStatus, "condition": Condition, "returnCondition": Condition,
              "assetStatus": AssetStatus, "result": AuditResult},
}

record_history = HistoryWriter(history, SPELLING)

__all__ = ["SPELLING", "diff", "record_history"]

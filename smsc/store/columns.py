"""The columns of the messages and outbox tables, shared by the SQL stores (SQLite, PostgreSQL)
and their row conversions (:mod:`smsc.store.sqlite_rows`): no driver is imported here."""

from __future__ import annotations

from typing import Any

MESSAGE_COLUMNS: dict[str, Any] = {
    "id": int, "message_id": int, "account": str, "credit_owner": str,
    "source_addr_ton": int, "source_addr_npi": int, "source_addr": str,
    "dest_addr_ton": int, "dest_addr_npi": int, "destination_addr": str,
    "esm_class": int, "protocol_id": int, "priority_flag": int, "data_coding": int,
    "registered_delivery": int, "short_message": bytes, "tlvs": bytes, "service_type": str,
    "part_ref": int, "part_total": int, "part_index": int, "operator": str, "route": str,
    "price": int, "charged_subscription": int, "charged_bought": int,
    "submitted_at": float, "scheduled_at": float, "expires_at": float, "next_at": float,
    "state": int, "attempts": int, "done_at": float, "error_code": int,
    "text_snippet": str, "blacklisted": int, "refunded": int, "forced_state": int,
    "forced_error": int, "hook_url": str, "hook_style": int, "reference": str,
    "hot": int,
}
OUTBOX_COLUMNS: dict[str, Any] = {
    "id": int, "account": str, "kind": int, "pdu": bytes, "created_at": float,
    "expires_at": float, "message_id": int, "attempts": int, "not_before": float,
    "hook_url": str, "hook_style": int,
}

"""Campaigns, their previews and reports as the API's models (pure). The figures are the
core's (:mod:`smsc.core.preview`, :mod:`smsc.core.campaign_report`), the same the CLI
prints; amounts stay integers of minor units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from smsc.core.campaign_report import CampaignReport, ContactOutcome
from smsc.core.preview import Preview, PreviewRow
from smsc.core.sending_window import SendingWindow
from smsc.http import campaign_models as c
from smsc.http.answers import iso
from smsc.store.campaign_records import Campaign, MarkState

ENCODINGS: Final = {0: "GSM", 8: "UCS2", -1: "-"}
REPORT_COLUMNS: Final = ("number", "mark", "note", "message_id", "stat", "err", "parts",
                         "charged")


def campaign(x: Campaign, counts: Mapping[MarkState, int] | None = None) -> c.Campaign:
    return c.Campaign.model_validate({
        "id": x.id, "name": x.name, "state": x.state.value, "pause_reason": x.pause_reason,
        "lists": list(x.lists), "text": x.template, "from": x.source,
        "start_at": iso(x.start_at) if x.start_at else None,
        "window": (str(SendingWindow(x.window_start, x.window_end))
                   if x.window_start != x.window_end else ""),
        "throughput": x.throughput, "validity": int(x.validity) if x.validity else None,
        "receipts": bool(x.registered_delivery),
        "counts": {k.value: v for k, v in counts.items()} if counts is not None else None,
        "created_at": iso(x.created_at), "updated_at": iso(x.updated_at)})


def _row(r: PreviewRow) -> c.PreviewRow:
    return c.PreviewRow.model_validate({
        "list": r.list_name, "number": r.number, "outcome": r.outcome, "text": r.text,
        "encoding": ENCODINGS.get(r.data_coding, str(r.data_coding)), "parts": r.parts,
        "route": r.route, "price": r.price, "why": r.why})


def preview(p: Preview, currency: str, decimals: int) -> c.Preview:
    return c.Preview(
        contacts=p.contacts, sendable=p.sendable, parts=p.parts, total=p.total,
        currency=currency, decimals=decimals, balance=p.balance,
        enough_credit=p.enough_credit, duplicates=p.duplicates, opted_out=p.opted_out,
        missing_values=p.missing, blacklisted=p.blacklisted, invalid=p.invalid,
        invalid_reasons=dict(p.invalid_reasons),
        by_encoding={ENCODINGS.get(k, str(k)): v for k, v in sorted(p.by_encoding.items())},
        by_parts={str(k): v for k, v in sorted(p.by_parts.items())},
        routes=[c.PreviewRoute(route=r.route, operator=r.operator,
                               price_per_part=r.price_per_part, contacts=r.contacts,
                               parts=r.parts, amount=r.amount) for r in p.routes.values()],
        rows=[_row(r) for r in p.rows], problems=[_row(r) for r in p.problems])


def report(x: Campaign, r: CampaignReport, currency: str, decimals: int) -> c.Report:
    rate = r.delivery_rate
    return c.Report(id=x.id, name=x.name, state=x.state.value,
                    marks=dict(r.marks), skipped=dict(r.skipped), outcomes=dict(r.outcomes),
                    errors=[c.ReportError(stat=s, err=e, count=n)
                            for (s, e), n in sorted(r.errors.items())],
                    parts=r.parts, charged=r.charged, currency=currency, decimals=decimals,
                    delivery_rate=round(rate, 4) if rate is not None else None)


def outcome_row(o: ContactOutcome, message_id: str) -> list[object]:
    """A contact's row of the report's CSV (REPORT_COLUMNS); ``message_id`` as formatted."""
    return [o.number, o.mark.value, o.note, message_id, o.stat,
            o.error_code if o.stat else "", o.parts, o.charged]


__all__ = ["ENCODINGS", "REPORT_COLUMNS", "campaign", "outcome_row", "preview", "report"]

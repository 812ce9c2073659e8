"""The SMSC's answer to a Kannel-style send, reported to its dlr-url: Kannel's report types 8
(the SMSC accepted the message) and 16 (it refused it), made when the send is answered.

Kannel's bearerbox makes them when its SMSC answers the submit_sm; here the core answers, so
they are made from each receiver's :class:`smsc.core.batch.BatchAnswer`, for the kinds the
message's dlr-mask asks for (:func:`smsc.core.dlr_url.wanted`: a refusal also for a mask asking
for failures, as bearerbox does). They are outbox items like receipts, going out through the
same webhook courier: durable, retried, kept across restarts. The server writes them before it
answers the send, so a client that got its answer gets its report.
"""

from __future__ import annotations

from collections.abc import Sequence

from smsc.core import dlr_url
from smsc.core.batch import BatchAnswer
from smsc.core.rounds import DEFAULT_RECEIPT_TTL
from smsc.pdu.codec import encode
from smsc.pdu.constants import CommandStatus
from smsc.store.records import Account, HookStyle, MessageHook, OutboxItem, OutboxKind

ADDRESS_MAX = 20  # octets of a deliver_sm address


def answer_reports(answered: Sequence[BatchAnswer], hook: MessageHook | None,
                   account: Account, sender: str, now: float) -> list[OutboxItem]:
    """The reports of the SMSC's answers to a send with ``hook`` (a dlr-url and its mask) that
    its mask asks for: ``ACK/`` for each receiver accepted (with its message id), ``NACK/...``
    for each refused (with the status it was refused with). None without a Kannel hook."""
    if hook is None or hook.style != HookStyle.KANNEL:
        return []
    mask, _ = dlr_url.split_hook(hook.url)
    accepted_wanted = dlr_url.wanted(mask, dlr_url.DLR_SMSC_ACCEPTED)
    refused_wanted = dlr_url.wanted(mask, dlr_url.DLR_SMSC_REJECTED)
    if not accepted_wanted and not refused_wanted:
        return []
    ttl = account.receipt_ttl if account.receipt_ttl else DEFAULT_RECEIPT_TTL
    out: list[OutboxItem] = []
    for a in answered:
        prepared = a.item.prepared
        accepted = not a.answer.status and bool(a.answer.message_id) and prepared is not None
        if accepted and accepted_wanted and prepared is not None:
            first = prepared.parts[0]
            pdu = dlr_url.smsc_answer(accepted=True, status=0, handset=first.destination_addr,
                                      sender=first.source_addr,
                                      message_id=a.answer.message_id)
            message_id: int | None = prepared.message_id
        elif not accepted and refused_wanted:
            pdu = dlr_url.smsc_answer(accepted=False,
                                      status=a.answer.status or CommandStatus.ESME_RSYSERR,
                                      handset=a.item.to[:ADDRESS_MAX], sender=sender[:ADDRESS_MAX],
                                      message_id="")
            message_id = None
        else:
            continue
        out.append(OutboxItem(account=account.system_id, kind=OutboxKind.RECEIPT,
                              pdu=encode(pdu), created_at=now, expires_at=now + ttl,
                              message_id=message_id, hook_url=hook.url,
                              hook_style=int(HookStyle.KANNEL)))
    return out


__all__ = ["answer_reports"]

"""A quote: what a send would cost, decided by the same code as the send, with nothing
prepared, queued, billed or stored (the HTTP API's ``POST /v1/quote``; campaign previews).

For each destination: the parts its text makes for the account (:func:`smsc.core.content.
submit_content`), the route and price per part (:meth:`smsc.core.routebook.RouteBook.route`
through the intake's route), and whether the send would refuse it at intake (test numbers,
routing, queue room at the current depth) and with which status. Duplicates are left out as
the send leaves them out (as written, then as read). A blacklisted destination the account's
mode accepts costs nothing (the send stores it UNDELIV, unbilled); one its mode refuses is
refused. A destination on the account's opt-out list is refused SMSC_ROPTEDOUT as the send
refuses it (:meth:`Quote.opting_out`, with the numbers the caller read from the store for
:meth:`Quote.numbers`). The total is what the send would debit, to the minor unit, if
nothing changed in between (credit is only checked by the send's commit: the caller compares
with the balance).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from smsc.core.content import submit_content
from smsc.core.submit import Intake
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.store.records import Account

S = CommandStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteLine:
    """One destination: ``status`` 0 with its parts and price, or the refusal a send would
    get before its commit."""

    to: str
    status: int = 0
    detail: str = ""
    destination: str = ""  # as read (international digits)
    operator: str = ""
    route: str = ""
    parts: int = 0
    price: int = 0  # per part, minor units (0 for a blacklisted destination)
    blacklisted: bool = False

    @property
    def total(self) -> int:
        return self.parts * self.price


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    duplicates: int
    data_coding: int

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines if not line.status)

    @property
    def parts(self) -> int:
        return sum(line.parts for line in self.lines if not line.status)

    @property
    def refused(self) -> int:
        return sum(1 for line in self.lines if line.status)

    def by_route(self) -> list[tuple[str, int, int, int]]:
        """(route, destinations, parts, total) of the destinations accepted, by route name."""
        routes: dict[str, list[int]] = {}
        for line in self.lines:
            if not line.status:
                entry = routes.setdefault(line.route, [0, 0, 0])
                entry[0] += 1
                entry[1] += line.parts
                entry[2] += line.total
        return [(route, v[0], v[1], v[2]) for route, v in sorted(routes.items())]

    @property
    def blacklisted(self) -> int:
        return sum(1 for line in self.lines
                   if line.blacklisted or line.status == S.SMSC_RBLACKLISTED)

    @property
    def opted_out(self) -> int:
        return sum(1 for line in self.lines if line.status == S.SMSC_ROPTEDOUT)

    def numbers(self) -> list[str]:
        """The numbers (as read) of the destinations the send would accept: those whose
        opt-out the caller looks up."""
        return [line.destination for line in self.lines if not line.status]

    def opting_out(self, opted_out: Collection[str]) -> Quote:
        """This quote with the destinations whose number is in ``opted_out`` refused
        SMSC_ROPTEDOUT, as the send refuses them."""
        if not opted_out:
            return self
        lines = tuple(
            QuoteLine(to=line.to, status=S.SMSC_ROPTEDOUT, destination=line.destination,
                      detail="the number opted out of the account's messages")
            if not line.status and line.destination in opted_out else line
            for line in self.lines)
        return replace(self, lines=lines)


def quote(intake: Intake, account: Account, requests: Sequence[tuple[str, pdus.SubmitSm]],
          now: float) -> Quote:
    """The quote of a send of ``requests`` (destination as written, submit_sm) by
    ``account`` at ``now``."""
    operators = intake.operators
    route = intake.route
    depths = intake.queue_depths
    seen_written: set[str] = set()
    seen_read: set[str] = set()
    lines: list[QuoteLine] = []
    duplicates = 0
    data_coding = requests[0][1].data_coding if requests else 0
    for to, pdu in requests:
        if to in seen_written:
            duplicates += 1
            continue
        seen_written.add(to)
        try:
            content = submit_content(account, pdu.esm_class, pdu.data_coding, pdu.short_message,
                                     pdu.tlvs, lambda: 0)
            for number in (pdu.destination_addr,):
                status = operators.test_submit_status(number)
                if status:
                    raise PduError(status, f"test number {number} refuses submits")
            routed = route(account, source_addr=pdu.source_addr, source_ton=pdu.source_addr_ton,
                           source_npi=pdu.source_addr_npi, destination_addr=pdu.destination_addr,
                           dest_ton=pdu.dest_addr_ton, dest_npi=pdu.dest_addr_npi, now=now)
            if routed.destination_addr != pdu.destination_addr:
                status = operators.test_submit_status(routed.destination_addr)
                if status:
                    raise PduError(status, f"test number {routed.destination_addr} refuses "
                                           "submits")
            parts = len(content.segments)
            if not operators.queue_has_room(routed.operator, depths.get(routed.operator, 0),
                                            parts):
                raise PduError(S.ESME_RMSGQFUL, f"the queue of {routed.operator} is full")
        except PduError as e:
            lines.append(QuoteLine(to=to, status=e.command_status, detail=str(e)))
            continue
        if routed.destination_addr in seen_read:
            duplicates += 1
            continue
        seen_read.add(routed.destination_addr)
        lines.append(QuoteLine(to=to, destination=routed.destination_addr,
                               operator=routed.operator, route=routed.route, parts=parts,
                               price=0 if routed.blacklisted else routed.price,
                               blacklisted=routed.blacklisted))
    return Quote(lines=tuple(lines), duplicates=duplicates, data_coding=data_coding)


__all__ = ["Quote", "QuoteLine", "quote"]

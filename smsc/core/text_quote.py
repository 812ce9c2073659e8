"""What one text to one destination is billed, decided exactly as an SMPP submit of it is:
the same content split (:func:`smsc.core.content.submit_content`), the same routing and price
(a :class:`smsc.core.routebook.RouteFn`, :meth:`smsc.core.routebook.RouteBook.route` in the
server), the same test-number refusals, nothing stored and nothing billed.

A campaign's message is :func:`campaign_submit`: the personalised text in GSM 03.38 when every
character is in it, else UCS2 (as ``smsc send`` and the MO simulation choose), in short_message
up to 254 octets and in message_payload beyond, which smsc splits into parts itself.

(The HTTP API's quote may bring its own entry point; this module is the campaigns' one, and
both must stay the same arithmetic: parts x the route's price per part, 0 when blacklisted.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smsc.core.content import submit_content
from smsc.core.routebook import RouteFn
from smsc.operators.mo import address_type
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, Npi, Tag, Ton
from smsc.pdu.errors import PduError
from smsc.pdu.text import choose_data_coding, encode_text
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs
from smsc.store.records import Account

MAX_SHORT_MESSAGE = 254  # octets; longer text goes in message_payload


@dataclass(frozen=True, slots=True, kw_only=True)
class TextQuote:
    """One destination's bill: ``total`` is what ``Store.accept`` debits for it (``parts`` x
    ``price_per_part``; 0 for a blacklisted destination, which is accepted and never sent)."""

    destination: str  # as stored: international digits
    data_coding: int
    parts: int
    operator: str
    route: str
    price_per_part: int
    total: int
    blacklisted: bool = False
    forced_state: int = 0  # a coverage rule's outcome or UNDELIVERABLE for an unassigned number


def campaign_submit(text: str, *, source: str, destination: str,
                    registered_delivery: int = 1) -> pdus.SubmitSm:
    """The submit_sm a campaign sends for one personalised ``text`` (TextError when it cannot
    be encoded). The sender's ton and npi follow its form (alphanumeric 5/0, a short code of up
    to six digits 0/1, a longer number 1/1); the destination is read as ton 0, like a list's
    numbers."""
    data_coding = choose_data_coding(text)
    octets = encode_text(text, data_coding)
    source_ton, source_npi = address_type(source)
    if len(octets) > MAX_SHORT_MESSAGE:
        short, tlvs = b"", Tlvs.of({Tag.MESSAGE_PAYLOAD: octets})
    else:
        short, tlvs = octets, EMPTY_TLVS
    return pdus.SubmitSm(source_addr_ton=source_ton, source_addr_npi=source_npi,
                         source_addr=source, dest_addr_ton=int(Ton.UNKNOWN),
                         dest_addr_npi=int(Npi.ISDN), destination_addr=destination,
                         data_coding=data_coding, short_message=short, tlvs=tlvs,
                         registered_delivery=registered_delivery)


def quote_submit(account: Account, submit: pdus.SubmitSm, route: RouteFn, now: float, *,
                 test_status: Callable[[str], int] | None = None) -> TextQuote:
    """The bill of ``submit`` for ``account`` at ``now``, or the PduError its submit would be
    refused with (too many parts, invalid destination, no route, blacklisted with
    blacklist_mode REFUSE, a test number that refuses submits ...). Throughput and queue room
    are not judged: they depend on the moment of sending."""
    content = submit_content(account, submit.esm_class, submit.data_coding,
                             submit.short_message, submit.tlvs, lambda: 0)
    destination = submit.destination_addr
    if test_status is not None and test_status(destination):
        raise PduError(test_status(destination), f"test number {destination} refuses submits")
    routed = route(account, source_addr=submit.source_addr, source_ton=submit.source_addr_ton,
                   source_npi=submit.source_addr_npi, destination_addr=destination,
                   dest_ton=submit.dest_addr_ton, dest_npi=submit.dest_addr_npi, now=now)
    if (test_status is not None and routed.destination_addr != destination
            and test_status(routed.destination_addr)):
        raise PduError(test_status(routed.destination_addr),
                       f"test number {routed.destination_addr} refuses submits")
    parts = len(content.segments)
    price = 0 if routed.blacklisted else routed.price
    return TextQuote(destination=routed.destination_addr, data_coding=content.data_coding,
                     parts=parts, operator=routed.operator, route=routed.route,
                     price_per_part=price, total=price * parts, blacklisted=routed.blacklisted,
                     forced_state=routed.forced_state)


BLACKLIST_REFUSAL = int(CommandStatus.SMSC_RBLACKLISTED)

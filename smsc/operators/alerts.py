"""alert_notification: telling a sender that a handset it could not reach is back.

SMPP 3.4 (section 4.12) has the SMSC send alert_notification to an ESME when a mobile
subscriber becomes available again and a delivery pending flag was set for it: the message that
failed asked for it with the set_dpf TLV (0x0421) = 1. Here the flag is set when a part asking
for it finds its handset offline (see :mod:`smsc.operators.simulation`); when the operator's
retry finds the handset back, the sender's receivers get one alert_notification per message
(with its first part): ``source_addr`` is the handset (the message's destination, with its
TON/NPI), ``esme_addr`` the sender (the message's source) and the ms_availability_status TLV
(0x0422) is 0, available. An alert_notification has no response.
"""

from __future__ import annotations

from smsc.pdu.codec import encode
from smsc.pdu.constants import Tag
from smsc.pdu.errors import PduError
from smsc.pdu.pdus import AlertNotification
from smsc.pdu.tlv import Tlvs, parse_tlvs
from smsc.store.records import StoredMessage

MS_AVAILABLE = 0  # ms_availability_status: the handset is available


def delivery_pending_flag(message: StoredMessage) -> bool:
    """Whether the message asked for a delivery pending flag (set_dpf = 1)."""
    if not message.tlvs:
        return False
    try:
        tlvs = parse_tlvs(message.tlvs, 0, len(message.tlvs))
    except PduError:  # stored as received; an unreadable one asks for nothing
        return False
    return tlvs.get_int(Tag.SET_DPF) == 1


def wants_alert(message: StoredMessage) -> bool:
    """Whether the handset coming back for this part means an alert to its sender: once per
    message (its first part), when the message set the delivery pending flag."""
    return message.part_index == 1 and delivery_pending_flag(message)


def alert_frame(message: StoredMessage) -> bytes:
    """The encoded alert_notification (sequence_number 0) for the handset of ``message``."""
    return encode(AlertNotification(
        source_addr_ton=message.dest_addr_ton, source_addr_npi=message.dest_addr_npi,
        source_addr=message.destination_addr, esme_addr_ton=message.source_addr_ton,
        esme_addr_npi=message.source_addr_npi, esme_addr=message.source_addr,
        tlvs=Tlvs([(Tag.MS_AVAILABILITY_STATUS, bytes([MS_AVAILABLE]))])))

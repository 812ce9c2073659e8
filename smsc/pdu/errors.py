"""Errors of the wire layer; each carries the SMPP command_status to answer with."""

from __future__ import annotations

from smsc.pdu.constants import CommandStatus


class PduError(Exception):
    """Input that cannot be accepted as a PDU.

    ``command_status`` is the status to answer with. ``command_id`` and ``sequence_number`` are
    filled in by the codec when the header could be read, so the caller can answer with the
    request's own ``*_resp`` (or ``generic_nack`` when the command is unknown).
    """

    def __init__(
        self,
        command_status: int,
        message: str,
        *,
        command_id: int | None = None,
        sequence_number: int = 0,
    ) -> None:
        super().__init__(message)
        self.command_status = int(command_status)
        self.command_id = command_id
        self.sequence_number = sequence_number

    @property
    def status_name(self) -> str:
        return CommandStatus.name_of(self.command_status)

    def __str__(self) -> str:
        return f"{self.status_name}: {self.args[0]}"


class FramingError(PduError):
    """The byte stream cannot be split into PDUs any more: answer generic_nack and close."""

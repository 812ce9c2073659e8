"""Encode and decode PDUs.

The layouts in :mod:`smsc.pdu.layouts` are compiled at import time into one straight-line
decode and one encode function per PDU class (the technique ``dataclasses`` itself uses), so the
hot path has no per-field interpretation loop: ``bytes.find`` for C-Octet strings, indexing
for octets, and slot descriptors to fill the frozen instances.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from smsc.pdu import pdus
from smsc.pdu.constants import HEADER_LENGTH, CommandStatus
from smsc.pdu.errors import PduError
from smsc.pdu.layouts import LAYOUTS, Field
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs, parse_tlvs
from smsc.slotted import slot_setter

HEADER = struct.Struct(">IIII")

Decoder = Callable[[bytes, int, int, int], pdus.Pdu]
Encoder = Callable[[Any], bytes]


def _truncated(name: str) -> PduError:
    return PduError(CommandStatus.ESME_RINVCMDLEN, f"PDU ends inside {name}")


def _too_long(status: int, name: str, size: int) -> PduError:
    return PduError(status, f"{name} is longer than {size - 1} octets")


def _decode_dests(
    buf: bytes, pos: int, end: int
) -> tuple[tuple[pdus.SmeAddress | pdus.DistributionList, ...], int]:
    if pos >= end:
        raise _truncated("number_of_dests")
    count = buf[pos]
    pos += 1
    if count == 0:
        raise PduError(CommandStatus.ESME_RINVNUMDESTS, "number_of_dests is 0")
    out: list[pdus.SmeAddress | pdus.DistributionList] = []
    for _ in range(count):
        if pos >= end:
            raise _truncated("dest_address")
        flag = buf[pos]
        pos += 1
        if flag == 1:
            if pos + 2 > end:
                raise _truncated("dest_address")
            ton, npi = buf[pos], buf[pos + 1]
            pos += 2
            i = buf.find(b"\x00", pos, end)
            if i < 0:
                raise _truncated("destination_addr")
            if i - pos >= 21:
                raise _too_long(CommandStatus.ESME_RINVDSTADR, "destination_addr", 21)
            out.append(
                pdus.SmeAddress(
                    dest_addr_ton=ton,
                    dest_addr_npi=npi,
                    destination_addr=buf[pos:i].decode("latin-1"),
                )
            )
        elif flag == 2:
            i = buf.find(b"\x00", pos, end)
            if i < 0:
                raise _truncated("dl_name")
            if i - pos >= 21:
                raise _too_long(CommandStatus.ESME_RINVDLNAME, "dl_name", 21)
            out.append(pdus.DistributionList(dl_name=buf[pos:i].decode("latin-1")))
        else:
            raise PduError(CommandStatus.ESME_RINVDESTFLAG, f"dest_flag {flag} is not 1 or 2")
        pos = i + 1
    return tuple(out), pos


def _decode_unsuccess(buf: bytes, pos: int, end: int) -> tuple[tuple[pdus.UnsuccessSme, ...], int]:
    if pos >= end:
        raise _truncated("no_unsuccess")
    count = buf[pos]
    pos += 1
    out: list[pdus.UnsuccessSme] = []
    for _ in range(count):
        if pos + 2 > end:
            raise _truncated("unsuccess_sme")
        ton, npi = buf[pos], buf[pos + 1]
        pos += 2
        i = buf.find(b"\x00", pos, end)
        if i < 0:
            raise _truncated("destination_addr")
        if i - pos >= 21:
            raise _too_long(CommandStatus.ESME_RINVDSTADR, "destination_addr", 21)
        addr = buf[pos:i].decode("latin-1")
        pos = i + 1
        if pos + 4 > end:
            raise _truncated("error_status_code")
        (code,) = struct.unpack_from(">I", buf, pos)
        pos += 4
        out.append(
            pdus.UnsuccessSme(
                dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr, error_status_code=code
            )
        )
    return tuple(out), pos


def _cstr(value: str, size: int, status: int, name: str) -> bytes:
    raw = value.encode("latin-1")
    if len(raw) >= size or b"\x00" in raw:
        raise (
            _too_long(status, name, size)
            if len(raw) >= size
            else PduError(status, f"{name} contains a NUL octet")
        )
    return raw


def _encode_dests(dests: tuple[pdus.SmeAddress | pdus.DistributionList, ...]) -> bytes:
    if not 1 <= len(dests) <= 255:
        raise PduError(CommandStatus.ESME_RINVNUMDESTS, f"{len(dests)} destinations, not 1..255")
    parts = [bytes((len(dests),))]
    for d in dests:
        if isinstance(d, pdus.SmeAddress):
            addr = _cstr(d.destination_addr, 21, CommandStatus.ESME_RINVDSTADR, "destination_addr")
            parts.append(bytes((1, d.dest_addr_ton, d.dest_addr_npi)) + addr + b"\x00")
        else:
            name = _cstr(d.dl_name, 21, CommandStatus.ESME_RINVDLNAME, "dl_name")
            parts.append(b"\x02" + name + b"\x00")
    return b"".join(parts)


def _encode_unsuccess(smes: tuple[pdus.UnsuccessSme, ...]) -> bytes:
    if len(smes) > 255:
        raise PduError(CommandStatus.ESME_RINVNUMDESTS, "more than 255 unsuccess_sme")
    parts = [bytes((len(smes),))]
    for u in smes:
        addr = _cstr(u.destination_addr, 21, CommandStatus.ESME_RINVDSTADR, "destination_addr")
        parts.append(
            bytes((u.dest_addr_ton, u.dest_addr_npi))
            + addr
            + b"\x00"
            + struct.pack(">I", u.error_status_code)
        )
    return b"".join(parts)


def _group_u8(layout: tuple[Field, ...]) -> list[list[Field]]:
    """Split a layout into runs: consecutive u8 fields form one run, every other field its own."""
    runs: list[list[Field]] = []
    for f in layout:
        if f[0] == "u8" and runs and runs[-1][0][0] == "u8":
            runs[-1].append(f)
        else:
            runs.append([f])
    return runs


def _cstr_error(buf: bytes, pos: int, end: int, size: int, status: int, name: str) -> PduError:
    if buf.find(b"\x00", pos, end) < 0:
        return _truncated(name)
    return _too_long(status, name, size)


def _compile_decoder(cls: type[pdus.Pdu], layout: tuple[Field, ...]) -> Decoder:
    env: dict[str, Any] = {
        "_cls": cls,
        "_new": object.__new__,
        "_trunc": _truncated,
        "_cerr": _cstr_error,
        "_PduError": PduError,
        "_parse_tlvs": parse_tlvs,
        "_EMPTY": EMPTY_TLVS,
        "_dests": _decode_dests,
        "_unsuccess": _decode_unsuccess,
        "_RINVMSGLEN": int(CommandStatus.ESME_RINVMSGLEN),
        "_RINVCMDLEN": int(CommandStatus.ESME_RINVCMDLEN),
    }
    lines = ["def decode(buf, end, seq, status):", " pos = 16"]
    names = [f[1] for f in layout]
    if cls.is_response and layout:
        # A response with a non-zero status may come without a body (SMPP 3.4 4.4.2 and others).
        lines += [" if status and end == 16:", "  return _default(seq, status)"]
    # The frame is exactly ``end`` octets long, so reading an octet past it raises IndexError.
    lines += [" try:", "  pass"]
    has_tlvs = False
    last = "the header"
    for run in _group_u8(layout):
        kind, name, size, status = run[0]
        if kind == "u8":
            for k, f in enumerate(run):
                lines.append(f"  {f[1]} = buf[pos + {k}]" if k else f"  {f[1]} = buf[pos]")
            lines.append(f"  pos += {len(run)}")
        elif kind == "cstr":
            lines += [
                f"  i = buf.find(b'\\x00', pos, pos + {size})",
                f"  if i < 0: raise _cerr(buf, pos, end, {size}, {status}, {name!r})",
                f"  {name} = buf[pos:i].decode('latin-1') if i > pos else ''",
                "  pos = i + 1",
            ]
        elif kind == "sm":
            lines += [
                "  n = buf[pos]",
                "  pos += 1",
                "  if pos + n > end: raise _PduError(_RINVMSGLEN, "
                "'sm_length is longer than the rest of the PDU')",
                f"  {name} = buf[pos:pos + n]",
                "  pos += n",
            ]
        elif kind == "dests":
            lines.append(f"  {name}, pos = _dests(buf, pos, end)")
        elif kind == "unsuccess":
            lines.append(f"  {name}, pos = _unsuccess(buf, pos, end)")
        elif kind == "tlvs":
            has_tlvs = True
            lines.append(f"  {name} = _parse_tlvs(buf, pos, end) if pos < end else _EMPTY")
        else:  # pragma: no cover - layouts are fixed data
            raise AssertionError(kind)
        last = name
    lines += [" except IndexError:", f"  raise _trunc({last!r}) from None"]
    if not has_tlvs:
        lines.append(
            " if pos != end: raise _PduError(_RINVCMDLEN, "
            "f'{end - pos} octets after the end of the body')"
        )
    lines += [" o = _new(_cls)", " _s_sequence_number(o, seq)", " _s_command_status(o, status)"]
    for name in names:
        lines.append(f" _s_{name}(o, {name})")
    lines.append(" return o")
    for name in ["sequence_number", "command_status", *names]:
        env[f"_s_{name}"] = slot_setter(cls, name)
    env["_default"] = lambda seq, status: cls(sequence_number=seq, command_status=status)
    exec("\n".join(lines), env)  # source built from the fixed layouts above
    decoder: Decoder = env["decode"]
    return decoder


_BODYLESS_ON_ERROR = frozenset({pdus.BindTransmitterResp, pdus.BindReceiverResp,
                                pdus.BindTransceiverResp, pdus.SubmitSmResp})


def _compile_encoder(cls: type[pdus.Pdu], layout: tuple[Field, ...]) -> Encoder:
    """One bytes %-format per PDU: the body is built by a single C call."""
    env: dict[str, Any] = {
        "_cstr": _cstr,
        "_hdr": HEADER.pack,
        "_cid": int(cls.command_id),
        "_dests": _encode_dests,
        "_unsuccess": _encode_unsuccess,
        "_PduError": PduError,
        "_RINVMSGLEN": int(CommandStatus.ESME_RINVMSGLEN),
        "_defaults": cls(),
    }
    lines = ["def encode(p):"]
    if cls in _BODYLESS_ON_ERROR:
        # SMPP 3.4 4.1.2/4.1.4/4.1.6/4.4.2: these error responses carry no body (when every
        # body field is at its default); every other response keeps its body.
        checks = " and ".join(f"p.{f[1]} == _defaults.{f[1]}" for f in layout)
        lines += [
            f" if p.command_status and {checks}:",
            "  return _hdr(16, _cid, p.command_status, p.sequence_number)",
        ]
    fmt: list[str] = []
    args: list[str] = []
    for kind, name, size, status in layout:
        if kind == "u8":
            fmt.append("%c")
            args.append(f"p.{name}")
        elif kind == "cstr":
            lines += [
                f" v_{name} = p.{name}",
                f" if len(v_{name}) >= {size} or '\\x00' in v_{name}: "
                f"_cstr(v_{name}, {size}, {status}, {name!r})",
            ]
            fmt.append("%s\\x00")
            args.append(f"v_{name}.encode('latin-1')")
        elif kind == "sm":
            lines += [
                f" v_{name} = p.{name}",
                f" if len(v_{name}) > 255: raise _PduError(_RINVMSGLEN, "
                "'short_message is longer than 255 octets')",
            ]
            fmt.append("%c%s")
            args += [f"len(v_{name})", f"v_{name}"]
        elif kind == "dests":
            fmt.append("%s")
            args.append(f"_dests(p.{name})")
        elif kind == "unsuccess":
            fmt.append("%s")
            args.append(f"_unsuccess(p.{name})")
        elif kind == "tlvs":
            fmt.append("%s")
            args.append(f"p.{name}.encoded() if p.{name} else b''")
    if fmt:
        lines.append(f" body = b'{''.join(fmt)}' % ({', '.join(args)},)")
        lines.append(
            " return _hdr(16 + len(body), _cid, p.command_status, p.sequence_number) + body"
        )
    else:
        lines.append(" return _hdr(16, _cid, p.command_status, p.sequence_number)")
    exec("\n".join(lines), env)  # source built from the fixed layouts above
    encoder: Encoder = env["encode"]
    return encoder


DECODERS: dict[int, Decoder] = {
    cls.command_id: _compile_decoder(cls, layout) for cls, layout in LAYOUTS.items()
}
ENCODERS: dict[type[pdus.Pdu], Encoder] = {
    cls: _compile_encoder(cls, layout) for cls, layout in LAYOUTS.items()
}


def decode(frame: bytes | bytearray | memoryview) -> pdus.Pdu:
    """Decode one whole PDU (header included).

    Raises :class:`PduError` carrying the status to answer with, and the command_id and
    sequence_number when the header could be read.
    """
    if not isinstance(frame, bytes):
        frame = bytes(frame)
    end = len(frame)
    if end < HEADER_LENGTH:
        raise PduError(CommandStatus.ESME_RINVCMDLEN, f"PDU of {end} octets has no whole header")
    length, command_id, status, seq = HEADER.unpack_from(frame, 0)
    if length != end:
        raise PduError(
            CommandStatus.ESME_RINVCMDLEN,
            f"command_length {length} but the PDU has {end} octets",
            command_id=command_id,
            sequence_number=seq,
        )
    decoder = DECODERS.get(command_id)
    if decoder is None:
        raise PduError(
            CommandStatus.ESME_RINVCMDID,
            f"unknown command_id 0x{command_id:08X}",
            command_id=command_id,
            sequence_number=seq,
        )
    try:
        return decoder(frame, end, seq, status)
    except PduError as e:
        e.command_id = command_id
        e.sequence_number = seq
        raise


def encode(pdu: pdus.Pdu) -> bytes:
    """Encode a PDU to its wire octets; raises PduError for a field that does not fit."""
    try:
        return ENCODERS[type(pdu)](pdu)
    except PduError as e:
        e.command_id = pdu.command_id
        e.sequence_number = pdu.sequence_number
        raise
    except UnicodeEncodeError as e:
        raise PduError(
            CommandStatus.ESME_RSYSERR,
            f"{pdu.command_name}: a C-Octet string has a character beyond Latin-1",
            command_id=pdu.command_id,
            sequence_number=pdu.sequence_number,
        ) from e
    except (struct.error, OverflowError, TypeError, ValueError) as e:
        raise PduError(
            CommandStatus.ESME_RSYSERR,
            f"{pdu.command_name}: an integer field is out of range ({e})",
            command_id=pdu.command_id,
            sequence_number=pdu.sequence_number,
        ) from e


def peek_header(frame: bytes) -> tuple[int, int, int, int]:
    """(command_length, command_id, command_status, sequence_number) of a frame."""
    result: tuple[int, int, int, int] = HEADER.unpack_from(frame, 0)
    return result


__all__ = ["DECODERS", "ENCODERS", "HEADER", "Tlvs", "decode", "encode", "peek_header"]

"""``smsc send``: a test client that binds, submits, waits for the receipts and tells the whole
life of the message."""

from __future__ import annotations

import contextlib
import secrets
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.esme import BlockingEsme, Delivered, EsmeError
from smsc.cli.output import echo_json, progress_stream
from smsc.operators.mo import address_type
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, DataCoding, MessageState, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.receipt_text import ReceiptError, ReceiptText
from smsc.pdu.text import MAX_PARTS, Segment, decode_text, payload_segment, split_text
from smsc.pdu.udh import parse_udh

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 2775
MAX_COUNT: Final = 100_000
_RECEIPT_TYPES: Final = 0x3C  # esm_class message type bits
_ENCODINGS: Final = {"auto": None, "gsm": int(DataCoding.DEFAULT), "ucs2": int(DataCoding.UCS2)}
_RD: Final = {"none": 0, "final": 1, "failure": 2, "0": 0, "1": 1, "2": 2}


@dataclass(slots=True)
class Submitted:
    """One submit_sm of a message and what came back."""

    index: int
    sequence: int
    sent_at: float
    status: int = -1
    message_id: str = ""
    answered_at: float | None = None
    receipts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return any(r["final"] for r in self.receipts)


def default_endpoint(listen: tuple[str, ...]) -> tuple[str, int]:
    """Host and port of the first TCP listener of the config (127.0.0.1:2775 without one)."""
    for description in listen:
        fields = description.split(":")
        if fields[0] == "tcp" and len(fields) > 1 and fields[1].isdigit():
            host = DEFAULT_HOST
            for extra in fields[2:]:
                if extra.startswith("interface=") and extra[10:] not in ("", "0.0.0.0", "::"):
                    host = extra[10:]
            return host, int(fields[1])
    return DEFAULT_HOST, DEFAULT_PORT


def _login(cli: CliContext, system_id: str | None, password: str | None) -> tuple[str, str]:
    test = cli.lenient_config.server.test_account
    system_id = system_id or test.system_id
    if password is not None:
        return system_id, password
    if system_id == test.system_id and test.password:
        return system_id, test.password
    raise click.UsageError(
        f"give --password for {system_id} (passwords are stored only as hashes; the test "
        f"account's was printed by the first `smsc serve`, `smsc account passwd "
        f"{test.system_id}` prints a new one)"
    )


def _default_source(cli: CliContext, system_id: str) -> str:
    """Without --from: an empty source_addr when the account (in this database) has a default
    sender, so the server puts it in as for any client; else "smsc"."""
    if cli.database_exists():
        found = cli.store().get_account(system_id)
        if found is not None and found.default_sender:
            return ""
    return "smsc"


def _segments(text: str, encoding: str, split: str) -> list[Segment]:
    data_coding = _ENCODINGS[encoding]
    try:
        if split == "payload":
            return [payload_segment(text, data_coding=data_coding)]
        return split_text(
            text,
            data_coding=data_coding,
            reference=secrets.randbelow(256),
            scheme="sar" if split == "sar" else "udh",
            max_parts=MAX_PARTS,
        )
    except (PduError, ValueError) as e:
        raise click.BadParameter(
            str(e).split(": ", 1)[-1] if isinstance(e, PduError) else str(e), param_hint="TEXT"
        ) from None


def _submit_pdu(segment: Segment, source: str, destination: str, registered: int) -> pdus.SubmitSm:
    ton, npi = address_type(source) if source else (0, 0)
    return pdus.SubmitSm(
        source_addr_ton=ton,
        source_addr_npi=npi,
        source_addr=source,
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=destination,
        esm_class=segment.esm_class,
        data_coding=segment.data_coding,
        registered_delivery=registered,
        short_message=segment.short_message,
        tlvs=segment.tlvs,
    )


def describe_delivery(item: Delivered, start: float) -> dict[str, Any]:
    """A deliver_sm as the life of a message tells it: a receipt (parsed) or an MO message."""
    pdu = item.pdu
    out: dict[str, Any] = {
        "after_s": round(item.at - start, 3),
        "from": pdu.source_addr,
        "to": pdu.destination_addr,
    }
    if pdu.esm_class & _RECEIPT_TYPES in (0x04, 0x20):
        out["kind"] = "receipt" if pdu.esm_class & _RECEIPT_TYPES == 0x04 else "notification"
        tlvs = pdu.tlvs
        receipted = tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID)
        state = tlvs.get_int(Tag.MESSAGE_STATE)
        network = tlvs.raw(Tag.NETWORK_ERROR_CODE)
        out["receipted_message_id"] = receipted
        out["message_state"] = MessageState(state).name if state in set(MessageState) else state
        out["network_error_code"] = network.hex() if network is not None else None
        try:
            receipt = ReceiptText.parse(pdu.short_message)
        except ReceiptError as e:
            out["text_error"] = str(e)
            out["id"] = receipted or ""
            out["final"] = state is not None and state != MessageState.ENROUTE
            return out
        out.update(
            id=receipt.message_id,
            stat=receipt.stat,
            err=receipt.err,
            sub=receipt.submitted,
            dlvrd=receipt.delivered,
            submit_date=receipt.submit_date,
            done_date=receipt.done_date,
            text=receipt.text,
        )
        out["final"] = receipt.stat != "ENROUTE" and out["kind"] == "receipt"
        return out
    out["kind"] = "mo"
    octets = pdu.short_message
    if pdu.esm_class & 0x40 and octets:
        with contextlib.suppress(PduError):
            octets = parse_udh(octets)[1]
    try:
        out["text"] = decode_text(octets, pdu.data_coding)
    except (PduError, ValueError):
        out["text"] = octets.decode("latin-1")
    return out


@click.command()
@click.argument("destination")
@click.argument("text")
@click.option(
    "--from",
    "source",
    default=None,
    help="Sender: alphanumeric (up to 11) or a number (default: the account's default sender, "
    'else "smsc").',
)
@click.option(
    "--host", help=f"Server address (default: the config's first listener, else {DEFAULT_HOST})."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help=f"Server port (default: the config's first listener, else {DEFAULT_PORT}).",
)
@click.option("--system-id", help="Login (default: the test account of this database).")
@click.option(
    "--password",
    envvar="SMSC_PASSWORD",
    help="Password (or the environment variable SMSC_PASSWORD; default: test_account.password "
    "of the config, if set).",
)
@click.option(
    "--encoding",
    type=click.Choice(list(_ENCODINGS)),
    default="auto",
    show_default=True,
    help="auto: GSM 03.38 if every character is in it, else UCS2.",
)
@click.option(
    "--split",
    type=click.Choice(["udh", "sar", "payload"]),
    default="udh",
    show_default=True,
    help="A long text as parts with a UDH, parts with SAR TLVs, or one message_payload.",
)
@click.option(
    "--registered-delivery",
    "registered",
    type=click.Choice(list(_RD)),
    default="final",
    show_default=True,
    help="Receipts: none, final (every final outcome) or failure (failures only).",
)
@click.option("--intermediate", is_flag=True, help="Ask for ENROUTE notifications too.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 3600),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the receipts.",
)
@click.option(
    "--count",
    type=click.IntRange(1, MAX_COUNT),
    default=1,
    show_default=True,
    help="Send the message this many times (a bulk test with a progress bar and a summary).",
)
@click.option(
    "--rate",
    type=click.FloatRange(0.1, 100_000),
    metavar="MSG/S",
    help="With --count: submit at most this many messages per second.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the life of the message as JSON.")
@pass_cli
def send(
    cli: CliContext,
    destination: str,
    text: str,
    source: str | None,
    host: str | None,
    port: int | None,
    system_id: str | None,
    password: str | None,
    encoding: str,
    split: str,
    registered: str,
    intermediate: bool,
    timeout: float,
    count: int,
    rate: float | None,
    as_json: bool,
) -> None:
    """Send a test message to a running server and follow it: bind (transceiver), submit
    (split into parts when long), wait for the receipts, unbind.

    Prints each step with its time: the bind, each submit_sm_resp with its message_id, each
    receipt (stat, err, dates, message_state and network_error_code TLVs) and any MO reply.
    Exits 1 when a submit is refused or a receipt does not come within --timeout.

    Without --system-id it binds as the test account, with --password or SMSC_PASSWORD (the
    password the first `smsc serve` printed; `smsc account passwd smsctest` prints a new one).

    \b
    Example:
      export SMSC_PASSWORD=...   # the test account's
      smsc send 380671234567 "Hello from smsc"
      smsc send 380671234567 "$(cat long.txt)" --encoding ucs2 --from ACME
      smsc send 380501234567 "load" --count 1000 --rate 50 --registered-delivery failure
      smsc send 61491570006 "test" --host 203.0.113.5 --port 2775 --system-id acme --password s3cret
    """
    if not destination.isdigit() or not destination.isascii():
        raise click.BadParameter(
            "must be an international number, digits only (380671234567)", param_hint="DESTINATION"
        )
    segments = _segments(text, encoding, split)
    rd = _RD[registered] | (0x10 if intermediate else 0)
    default_host, default_port = default_endpoint(cli.lenient_config.server.listen)
    address = (host or default_host, port or default_port)
    login = _login(cli, system_id, password)
    if source is None:
        source = _default_source(cli, login[0])
    try:
        with BlockingEsme(*address, timeout=min(timeout, 10.0)) as esme:
            life = _life(
                esme,
                address,
                login,
                segments,
                source,
                destination,
                rd,
                timeout,
                count,
                rate,
                as_json,
            )
    except EsmeError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        echo_json(life)
    if life.get("problem"):
        raise click.ClickException(life["problem"])


def _line(quiet: bool, what: str, text: str) -> None:
    if not quiet:
        click.echo(f"{what:<9} {text}")


def _life(
    esme: BlockingEsme,
    address: tuple[str, int],
    login: tuple[str, str],
    segments: list[Segment],
    source: str,
    destination: str,
    rd: int,
    timeout: float,
    count: int,
    rate: float | None,
    quiet: bool,
) -> dict[str, Any]:
    start = esme.clock()
    life: dict[str, Any] = {
        "server": f"{address[0]}:{address[1]}",
        "system_id": login[0],
        "destination": destination,
        "parts": len(segments),
    }
    response, took = esme.bind_transceiver(*login)
    life["bind"] = {
        "status": CommandStatus.name_of(response.command_status),
        "after_s": round(took, 4),
    }
    if response.command_status:
        esme.close()
        life["problem"] = (
            f"bind refused: {CommandStatus.name_of(response.command_status)} "
            f"(0x{response.command_status:X})"
        )
        _line(quiet, "bind", life["problem"])
        return life
    server_id = getattr(response, "system_id", "")
    _line(
        quiet,
        "bound",
        f"trx {login[0]} at {address[0]}:{address[1]} ({server_id}) in {took * 1000:.1f} ms",
    )
    if count > 1:
        life.update(_bulk(esme, segments, source, destination, rd, timeout, count, rate, quiet))
    else:
        life.update(_one(esme, start, segments, source, destination, rd, timeout, quiet))
    esme.unbind()
    _line(quiet, "unbound", f"after {esme.clock() - start:.3f} s")
    return life


def _submit_all(
    esme: BlockingEsme, segments: list[Segment], source: str, destination: str, rd: int
) -> list[Submitted]:
    out = []
    for index, segment in enumerate(segments, 1):
        seq, sent = esme.send(_submit_pdu(segment, source, destination, rd))
        out.append(Submitted(index=index, sequence=seq, sent_at=sent))
    return out


def _answered(esme: BlockingEsme, submitted: list[Submitted]) -> None:
    for item in submitted:
        response, at = esme.response(item.sequence)
        item.status = response.command_status
        item.message_id = getattr(response, "message_id", "")
        item.answered_at = at


def _one(
    esme: BlockingEsme,
    start: float,
    segments: list[Segment],
    source: str,
    destination: str,
    rd: int,
    timeout: float,
    quiet: bool,
) -> dict[str, Any]:
    submitted = _submit_all(esme, segments, source, destination, rd)
    _answered(esme, submitted)
    total = len(submitted)
    refused = [s for s in submitted if s.status]
    for item in submitted:
        assert item.answered_at is not None
        status = CommandStatus.name_of(item.status)
        text = (
            f"part {item.index}/{total}: submit_sm_resp {status}"
            + (f" message_id={item.message_id}" if not item.status else f" (0x{item.status:X})")
            + f" after {(item.answered_at - item.sent_at) * 1000:.1f} ms"
        )
        _line(quiet, "submit", text)
    result: dict[str, Any] = {
        "submits": [
            {
                "part": s.index,
                "status": CommandStatus.name_of(s.status),
                "message_id": s.message_id,
                "after_s": round((s.answered_at or s.sent_at) - s.sent_at, 4),
            }
            for s in submitted
        ]
    }
    if refused:
        result["problem"] = (
            f"{len(refused)} of {total} submit(s) refused: "
            f"{CommandStatus.name_of(refused[0].status)}"
        )
        return result
    by_id = {s.message_id: s for s in submitted}
    deliveries: list[dict[str, Any]] = []

    def take_new() -> None:
        for item in esme.take_delivered():
            info = describe_delivery(item, start)
            owner = by_id.get(info.get("id") or "")
            if info["kind"] in ("receipt", "notification") and owner is None:
                continue  # a receipt of an earlier message of this account
            if owner is not None:
                owner.receipts.append(info)
            deliveries.append(info)
            _line(quiet, info["kind"], _delivery_text(info))

    wanted = rd & 0x03
    if wanted == 0:
        result["deliveries"] = deliveries
        return result

    def all_final() -> bool:
        take_new()
        return all(s.final for s in submitted)

    if wanted == 1:
        _line(quiet, "waiting", f"for {total} receipt(s), up to {timeout:g} s")
        if not esme.wait_for(all_final, timeout):
            missing = [s.message_id for s in submitted if not s.final]
            result["problem"] = (
                f"no final receipt for {', '.join(missing)} within {timeout:g} s"
                " (see `smsc report messages --message-id ID`)"
            )
    else:
        _line(quiet, "waiting", f"up to {timeout:g} s for receipts of failures")
        esme.wait_for(all_final, timeout)
    result["deliveries"] = deliveries
    return result


def _delivery_text(info: dict[str, Any]) -> str:
    if info["kind"] == "mo":
        return f"MO from {info['from']} to {info['to']}: {info['text']!r} after {info['after_s']} s"
    if "stat" not in info:
        return f"unreadable receipt text ({info.get('text_error')}) after {info['after_s']} s"
    return (
        f"{info['id']}: stat:{info['stat']} err:{info['err']:03d} sub:{info['sub']:03d} "
        f"dlvrd:{info['dlvrd']:03d} submit date:{info['submit_date']} done date:"
        f"{info['done_date']}; message_state={info['message_state']} network_error_code="
        f"{info['network_error_code']} after {info['after_s']} s"
    )


def _bulk(
    esme: BlockingEsme,
    segments: list[Segment],
    source: str,
    destination: str,
    rd: int,
    timeout: float,
    count: int,
    rate: float | None,
    quiet: bool,
) -> dict[str, Any]:
    submitted: list[Submitted] = []
    window = max(1, esme.session.window - len(segments))
    pending: list[Submitted] = []
    began = esme.clock()
    with click.progressbar(length=count, label="submitting", file=progress_stream()) as bar:
        for number in range(count):
            if rate is not None:  # pace: the n-th message leaves n / rate seconds after the first
                due = began + number / rate
                while (wait := due - esme.clock()) > 0:
                    esme.pump(wait)
            batch = _submit_all(esme, segments, source, destination, rd)
            pending.extend(batch)
            submitted.extend(batch)
            if len(pending) >= window:
                _answered(esme, pending)
                pending = []
            bar.update(1)
        _answered(esme, pending)
    statuses = Counter(CommandStatus.name_of(s.status) for s in submitted)
    latencies = sorted((s.answered_at or s.sent_at) - s.sent_at for s in submitted)
    accepted = {s.message_id: s for s in submitted if not s.status}
    stats: Counter[str] = Counter()
    finals: set[str] = set()

    def take_new() -> bool:
        for item in esme.take_delivered():
            info = describe_delivery(item, item.at)
            if info.get("final") and info.get("id") in accepted and info["id"] not in finals:
                finals.add(info["id"])
                stats[info.get("stat", "?")] += 1
        return len(finals) >= len(accepted)

    if rd & 0x03 and accepted:
        waited = esme.clock()
        with click.progressbar(
            length=len(accepted), label="receipts", file=progress_stream()
        ) as bar:
            done = 0
            deadline = waited + timeout
            while not take_new() and esme.clock() < deadline:
                esme.pump(min(0.2, max(0.0, deadline - esme.clock())))
                bar.update(len(finals) - done)
                done = len(finals)
            bar.update(len(finals) - done)
    result: dict[str, Any] = {
        "messages": count,
        "submits": len(submitted),
        "statuses": dict(statuses),
        "submit_latency_ms": {
            "median": round(statistics.median(latencies) * 1000, 2),
            "max": round(latencies[-1] * 1000, 2),
        },
        "receipts": dict(stats),
    }
    _line(
        quiet,
        "submits",
        ", ".join(f"{n} {s}" for s, n in statuses.most_common())
        + f"; submit_sm_resp median {result['submit_latency_ms']['median']} ms, max "
        f"{result['submit_latency_ms']['max']} ms",
    )
    if rd & 0x03:
        _line(quiet, "receipts", ", ".join(f"{n} {s}" for s, n in stats.most_common()) or "none")
    refused = len(submitted) - len(accepted)
    if refused:
        result["problem"] = f"{refused} of {len(submitted)} submits refused"
    elif rd & 0x03 == 1 and len(finals) < len(accepted):
        result["problem"] = f"{len(accepted) - len(finals)} receipt(s) missing after {timeout:g} s"
    return result

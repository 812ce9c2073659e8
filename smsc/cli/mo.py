"""``smsc mo inject``: a handset's message to a customer, queued for its receiver binds."""

from __future__ import annotations

import secrets

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.opt_outs import opt_out_by_mo
from smsc.cli.output import JSON_OPTION, duration, echo_json
from smsc.core.hooks import item_hook
from smsc.operators.mo import mo_deliver_sms
from smsc.pdu.codec import encode
from smsc.pdu.constants import DataCoding
from smsc.pdu.errors import PduError
from smsc.pdu.text import MAX_PARTS
from smsc.store.records import OutboxItem, OutboxKind

_ENCODINGS = {"auto": None, "gsm": int(DataCoding.DEFAULT), "ucs2": int(DataCoding.UCS2)}


@click.group()
def mo() -> None:
    """MO (handset-originated) messages to customers.

    \b
    Example:
      smsc mo inject --account acme --from 380671234567 --to 4242 "STOP"
    """


@mo.command("inject")
@click.argument("text")
@click.option("--account", required=True, metavar="SYSTEM_ID", help="The customer it goes to.")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="NUMBER",
    help="The handset's number (international, digits).",
)
@click.option(
    "--to",
    "destination",
    required=True,
    metavar="NUMBER",
    help="The customer's short code or number the handset writes to.",
)
@click.option(
    "--encoding",
    type=click.Choice(list(_ENCODINGS)),
    default="auto",
    show_default=True,
    help="auto: GSM 03.38 if every character is in it, else UCS2.",
)
@click.option(
    "--ttl",
    metavar="DURATION",
    help="How long it waits for a receiver bind (default: the account's receipt TTL).",
)
@JSON_OPTION
@pass_cli
def inject(
    cli: CliContext,
    text: str,
    account: str,
    source: str,
    destination: str,
    encoding: str,
    ttl: str | None,
    as_json: bool,
) -> None:
    """Queue an MO message for an account: a running server delivers it as deliver_sm to the
    account's receiver or transceiver binds (within a second; when none is bound, as soon as
    one binds, until the TTL ends). A long text is split into parts with a UDH.

    \b
    Example:
      smsc mo inject --account acme --from 380671234567 --to 4242 "STOP"
      smsc mo inject --account acme --from 380501112233 --to 380441234567 "$(cat reply.txt)"
    """
    found = cli.account(account)
    for value, hint in ((source, "--from"), (destination, "--to")):
        if not (value.isascii() and value.isdigit() and 1 <= len(value) <= 15):
            raise click.BadParameter("must be 1 to 15 digits", param_hint=hint)
    if not text:
        raise click.BadParameter("is empty", param_hint="TEXT")
    try:
        parts = mo_deliver_sms(
            source_addr=source,
            destination_addr=destination,
            text=text,
            reference=secrets.randbelow(256),
            data_coding=_ENCODINGS[encoding],
            max_parts=MAX_PARTS,
        )
    except PduError as e:
        raise click.BadParameter(str(e), param_hint="TEXT") from None
    lifetime = duration(ttl, "--ttl") if ttl else found.receipt_ttl
    if lifetime <= 0:
        raise click.BadParameter("must be longer than 0", param_hint="--ttl")
    now = cli.now()
    hook_url, hook_style = item_hook(None, found)
    items = cli.store().add_outbox(
        [
            OutboxItem(
                account=found.system_id,
                kind=OutboxKind.MO,
                pdu=encode(pdu),
                created_at=now,
                expires_at=now + lifetime,
                hook_url=hook_url,
                hook_style=hook_style,
            )
            for pdu in parts
        ]
    )
    ids = [item.id for item in items]
    opt_out = opt_out_by_mo(cli, found, source, destination, text)
    if as_json:
        echo_json(
            {
                "account": found.system_id,
                "parts": len(items),
                "outbox_ids": ids,
                "data_coding": parts[0].data_coding,
                "opt_out": opt_out,
            }
        )
        return
    click.echo(
        f"{len(items)} MO part(s) from {source} to {destination} queued for "
        f"{found.system_id} (outbox {', '.join(map(str, ids))}); a running server "
        "delivers them to its receiver binds"
    )
    for line in opt_out:
        click.echo(line)

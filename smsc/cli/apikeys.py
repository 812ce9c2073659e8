"""``smsc apikey create/list/revoke``: the API keys an account (or sub-account) uses with the
HTTP API (docs/http.md). A key is shown once, when it is made; only a hash is stored."""

from __future__ import annotations

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table, iso
from smsc.core.apikeys import PREFIX, make_key


@click.group("apikey")
def apikey() -> None:
    """API keys for the HTTP API (sent as `Authorization: Bearer KEY`).

    \b
    Example:
      smsc apikey create acme
      smsc apikey list acme
    """


@apikey.command("create")
@click.argument("system_id")
@click.option("--note", default="", help="What the key is for (shown by `apikey list`).")
@JSON_OPTION
@pass_cli
def create(cli: CliContext, system_id: str, note: str, as_json: bool) -> None:
    """Make a key for an account and print it (once: only its hash is kept).

    \b
    Example:
      smsc apikey create acme --note "web shop"
    """
    cli.account(system_id)
    made = make_key(system_id, cli.now(), note)
    cli.store().add_api_key(made.record)
    if as_json:
        echo_json({"key": made.token, "id": PREFIX + made.record.key_id,
                   "account": system_id})
        return
    click.echo(made.token)
    click.echo(f"(the key of {system_id}, shown once: only its hash is stored; "
               f"`smsc apikey revoke {system_id} {PREFIX}{made.record.key_id}` ends it)",
               err=True)


@apikey.command("list")
@click.argument("system_id")
@JSON_OPTION
@pass_cli
def list_keys(cli: CliContext, system_id: str, as_json: bool) -> None:
    """An account's keys: id (the key's first characters), created, last used, revoked.

    \b
    Example:
      smsc apikey list acme --json
    """
    cli.account(system_id)
    keys = cli.store().api_keys(system_id)
    if as_json:
        echo_json([{"id": PREFIX + k.key_id, "created_at": iso(k.created_at),
                    "last_used_at": iso(k.last_used_at) if k.last_used_at else None,
                    "revoked_at": iso(k.revoked_at) if k.revoked_at else None, "note": k.note}
                   for k in keys])
        return
    if not keys:
        click.echo(f"{system_id} has no API keys (`smsc apikey create {system_id}` makes one)")
        return
    echo_table(["id", "created", "last used", "revoked", "note"],
               [[PREFIX + k.key_id, iso(k.created_at),
                 iso(k.last_used_at) if k.last_used_at else "-",
                 iso(k.revoked_at) if k.revoked_at else "-", k.note] for k in keys])


@apikey.command("revoke")
@click.argument("system_id")
@click.argument("key_id")
@pass_cli
def revoke(cli: CliContext, system_id: str, key_id: str) -> None:
    """End a key at once (give its id as `apikey list` shows it, or the whole key).

    \b
    Example:
      smsc apikey revoke acme smsc_3f9a0c1b2d4e
    """
    cli.account(system_id)
    bare = key_id.removeprefix(PREFIX).split(".", 1)[0]
    store = cli.store()
    key = store.api_key(bare)
    if key is None or key.account != system_id:
        raise click.ClickException(f"{system_id} has no API key {key_id!r} "
                                   f"(see `smsc apikey list {system_id}`)")
    if not store.revoke_api_key(bare, cli.now()):
        raise click.ClickException(f"{PREFIX}{bare} was revoked already")
    click.echo(f"revoked {PREFIX}{bare} of {system_id}")

"""``smsc account ...``: customer logins, their limits and credit."""

from __future__ import annotations

import json

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.core import TEST_PASSWORD_META
from smsc.money import format_amount, parse_amount
from smsc.routing.accounts import hash_password
from smsc.store.base import AccountExists, UnknownAccount
from smsc.store.records import Account, Bucket


@click.group()
def account() -> None:
    """Customer accounts (SMPP logins).

    \b
    Example:
      smsc account add acme --password s3cret --credit 100
      smsc account show acme
    """


@account.command("add")
@click.argument("system_id")
@click.option("--password", required=True, help="SMPP password, 1 to 8 characters.")
@click.option("--credit", "credit", default="0", show_default=True,
              help="Bought credit to start with, in the account's currency (e.g. 100 or 12.50).")
@click.option("--currency", default="EUR", show_default=True, help="ISO 4217 currency code.")
@pass_cli
def add(cli: CliContext, system_id: str, password: str, credit: str, currency: str) -> None:
    """Create an account (and the database if it does not exist yet).

    \b
    Example:
      smsc --db smsc.sqlite account add acme --password s3cret --credit 100
    """
    if not 1 <= len(system_id) <= 15:
        raise click.BadParameter("must be 1 to 15 characters (SMPP system_id)",
                                 param_hint="SYSTEM_ID")
    if not 1 <= len(password) <= 8:
        raise click.BadParameter("must be 1 to 8 characters (SMPP password)",
                                 param_hint="--password")
    try:
        amount = parse_amount(credit, currency)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--credit") from None
    if amount < 0:
        raise click.BadParameter("must not be negative", param_hint="--credit")
    store = cli.store()
    now = cli.now()
    try:
        store.create_account(Account(system_id=system_id, password_hash=hash_password(password),
                                     currency=currency.upper(), created_at=now))
    except AccountExists:
        raise click.ClickException(f"account {system_id} exists already") from None
    if amount:
        store.credit(system_id, amount, Bucket.BOUGHT, now, note="initial credit")
    click.echo(f"account {system_id} created with "
               f"{format_amount(amount, currency.upper())} credit")


@account.command("show")
@click.argument("system_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_cli
def show(cli: CliContext, system_id: str, as_json: bool) -> None:
    """Show an account's settings, balance and lock state.

    \b
    Example:
      smsc account show smsctest --json
    """
    store = cli.store()
    found = store.get_account(system_id)
    if found is None:
        raise click.ClickException(f"no account {system_id}")
    now = cli.now()
    try:
        balance = store.balance(found.credit_owner, now)
    except UnknownAccount:
        raise click.ClickException(f"the credit owner of {system_id} is missing") from None
    lock, _ = store.lock_state(system_id, "")
    password = store.get_meta(f"{TEST_PASSWORD_META}:{system_id}") if found.test_account else None
    info = {
        "system_id": found.system_id,
        "parent": found.parent,
        "test_account": found.test_account,
        "password": password,
        "enabled": found.enabled,
        "locked": lock.locked(now),
        "currency": found.currency,
        "balance": {"bought": balance.bought, "subscription": balance.subscription_now(now),
                    "subscription_expires_at": balance.subscription_expires_at,
                    "available": balance.available(now)},
        "max_binds": found.max_binds,
        "bind_types": sorted(b.short for b in found.bind_types),
        "allowed_ips": list(found.allowed_ips),
        "throughput": found.throughput,
        "max_parts": found.max_parts,
        "sender_ids": list(found.sender_ids),
        "require_registered_sender": found.require_registered_sender,
        "receipt_ttl": found.receipt_ttl,
    }
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    click.echo(f"account       {found.system_id}" + (" (test account)" if found.test_account
                                                      else ""))
    if password:
        click.echo(f"password      {password}")
    if found.parent:
        click.echo(f"parent        {found.parent} (draws on its credit)")
    click.echo(f"state         {'enabled' if found.enabled else 'disabled'}"
               + (", locked" if lock.locked(now) else ""))
    click.echo(f"balance       {format_amount(balance.available(now), found.currency)}"
               f" (bought {format_amount(balance.bought, found.currency)}, subscription "
               f"{format_amount(balance.subscription_now(now), found.currency)})")
    click.echo(f"binds         at most {found.max_binds}, types "
               f"{', '.join(info['bind_types'])}")  # type: ignore[arg-type]
    click.echo(f"throughput    {found.throughput or 'unlimited'} msg/s, parts <= "
               f"{found.max_parts}")

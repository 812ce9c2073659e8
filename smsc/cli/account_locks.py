"""``smsc account lock/unlock/locks``: locks set by hand and by failed binds (see smsc.core.binds).

Three kinds of lock: an account's (by hand, or wrong passwords where the account's lock scope is
"account"), an account's from one address (wrong passwords: the pair), and an address's (unknown
system_ids, every bind from it).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import click

from smsc.cli.accounts import account
from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, duration, echo_json, echo_table, iso
from smsc.core.binds import canonical_address, unlock_command
from smsc.store.records import Lock, LockKind

FOREVER = 100 * 365 * 86_400.0  # a lock "until unlocked"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(text: str) -> Network:
    """An IPv4 or IPv6 address (a /32 or /128) or CIDR block, checked."""
    try:
        return ipaddress.ip_network(canonical_address(text.strip()), strict=True)
    except ValueError as e:
        raise click.BadParameter(
            f"{text!r} is not an IPv4 or IPv6 address or CIDR block ({e})", param_hint="--address"
        ) from None


def _within(address: str, network: Network) -> bool:
    try:
        return ipaddress.ip_address(address) in network
    except ValueError:
        return False


@account.command("lock")
@click.argument("system_id")
@click.option(
    "--for",
    "lock_for",
    metavar="DURATION",
    help="How long (e.g. 3h); default: until `smsc account unlock`.",
)
@pass_cli
def lock(cli: CliContext, system_id: str, lock_for: str | None) -> None:
    """Lock an account: its binds fail with ESME_RBINDFAIL whatever the password. Binds
    already open stay (use `account set --disable` to close them).

    \b
    Example:
      smsc account lock acme --for 3h
    """
    cli.account(system_id)
    seconds = duration(lock_for, "--for") if lock_for else FOREVER
    if seconds <= 0:
        raise click.BadParameter("must be longer than 0", param_hint="--for")
    until = cli.now() + seconds
    cli.store().set_lock(system_id, until)
    click.echo(
        f"account {system_id} locked " + (f"until {iso(until)}" if lock_for else "until unlocked")
    )


def _describe(found: Lock) -> str:
    if found.kind == LockKind.ACCOUNT:
        return f"account {found.system_id}"
    if found.kind == LockKind.ADDRESS:
        return f"address {found.address}"
    return f"account {found.system_id} from {found.address}"


def _matches(found: Lock, system_id: str | None, network: Network | None) -> bool:
    """Whether ``unlock SYSTEM_ID --address NETWORK`` lifts ``found``."""
    if not system_id:  # --address alone: the addresses' own locks
        return (found.kind == LockKind.ADDRESS and network is not None
                and _within(found.address, network))
    if found.system_id != system_id:
        return False
    if found.kind == LockKind.ACCOUNT:
        return network is None
    return found.kind == LockKind.PAIR and (network is None or _within(found.address, network))


@account.command("unlock")
@click.argument("system_id", required=False)
@click.option(
    "--address",
    metavar="IP|CIDR",
    help="With SYSTEM_ID: lift its lock from this address (or block) only. Alone: lift the "
    "lock of this address (or of every address in the block) set by unknown system_ids.",
)
@pass_cli
def unlock(cli: CliContext, system_id: str | None, address: str | None) -> None:
    """Lift locks and clear their failed-bind counts.

    SYSTEM_ID alone lifts the account's lock and its locks from every address; with --address,
    its locks from that address (or block) only. --address alone lifts the address's lock.
    `smsc account locks` lists them; the server's log names the command for each lock.

    \b
    Example:
      smsc account unlock acme
      smsc account unlock acme --address 203.0.113.9
      smsc account unlock --address 203.0.113.9
      smsc account unlock --address 2001:db8::/64
    """
    if not system_id and not address:
        raise click.UsageError("give an account, --address IP, or both")
    network = _network(address) if address else None
    store = cli.store()
    if system_id:
        cli.account(system_id)
    found = [f for f in store.locks(cli.now()) if _matches(f, system_id, network)]
    lifted = [f for f in found if store.unlock(f.kind, f.system_id, f.address)]
    for f in lifted:
        click.echo(f"unlocked {_describe(f)}" + ("" if f.locked_until else " (count cleared)"))
    if not lifted:
        what = " ".join(filter(None, [system_id, address and f"from {address}"]))
        click.echo(f"nothing locked for {what}" if system_id else f"no lock for {address}")


@account.command("locks")
@JSON_OPTION
@pass_cli
def locks(cli: CliContext, as_json: bool) -> None:
    """List every lock with its expiry, and every count of failed binds not locking yet.

    Kinds: account (every bind of the account), pair (the account from one address, after
    wrong passwords), address (every bind from it, after unknown system_ids).

    \b
    Example:
      smsc account locks
      smsc account locks --json
    """
    now = cli.now()
    rows: list[dict[str, Any]] = [
        {
            "kind": f.kind.value,
            "system_id": f.system_id,
            "address": f.address,
            "failures": f.failures,
            "locked_until": iso(f.locked_until) if f.locked(now) else None,
            "last_failed_at": iso(f.last_failed_at) if f.last_failed_at else None,
            "unlock": unlock_command(f.kind, f.system_id, f.address),
        }
        for f in cli.store().locks(now)
    ]
    if as_json:
        echo_json(rows)
    elif not rows:
        click.echo("nothing is locked and no failed binds are counted")
    else:
        echo_table(
            ["KIND", "ACCOUNT", "ADDRESS", "FAILED BINDS", "LOCKED UNTIL", "LIFT WITH"],
            [
                [
                    r["kind"],
                    r["system_id"] or "-",
                    r["address"] or "-",
                    r["failures"],
                    r["locked_until"] or "-",
                    r["unlock"] if r["locked_until"] else "-",
                ]
                for r in rows
            ],
        )

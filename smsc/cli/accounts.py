"""``smsc account ...``: customer logins, sub-accounts, their limits, passwords and lockouts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, duration, echo_json, echo_table, iso
from smsc.core.accounts import CreditLeft, HasSubAccounts, check_removal
from smsc.core.hooks import new_webhook_secret, webhook_url_problem
from smsc.pdu.constants import Ton
from smsc.routing.accounts import (
    check_cidrs,
    check_parent,
    check_password,
    check_sub_account_credit,
    check_system_id,
    hash_password,
    new_password,
    sub_account_currency,
)
from smsc.routing.prices import check_currency
from smsc.routing.senders import sender_problem
from smsc.store.base import AccountExists, StoreError, UnknownAccount
from smsc.store.records import Account, BindType, BlacklistMode, Bucket, LockKind, LockScope

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
_BIND_NAMES = {"tx": BindType.TRANSMITTER, "rx": BindType.RECEIVER, "trx": BindType.TRANSCEIVER}


@click.group()
def account() -> None:
    """Customer accounts (SMPP logins) and sub-accounts.

    \b
    Example:
      smsc account add acme --password s3cret --credit 100
      smsc account add acme-eu --parent acme --password eu123
      smsc account set acme --throughput 50 --sender-id ACME --require-registered-sender
      smsc account show acme
    """


# --- the settings options, shared by add and set ----------------------------------------------


def account_options(function: F) -> F:
    options = [
        click.option("--max-binds", type=click.IntRange(1, 1000), help="Most binds open at once."),
        click.option(
            "--allowed-ip",
            "allowed_ips",
            multiple=True,
            metavar="CIDR",
            help="Addresses that may bind (repeatable; replaces the list).  Default: any.",
        ),
        click.option(
            "--any-ip",
            is_flag=True,
            default=None,
            help="Let any address bind (clears --allowed-ip).",
        ),
        click.option(
            "--bind-types", metavar="LIST", help="Bind types allowed, comma-separated: tx,rx,trx."
        ),
        click.option(
            "--throughput",
            type=click.FloatRange(0),
            metavar="MSG/S",
            help="Messages per second (0: no limit); excess gets ESME_RTHROTTLED.",
        ),
        click.option(
            "--burst",
            type=click.IntRange(0),
            help="Token bucket depth (0: one second of throughput).",
        ),
        click.option(
            "--sender-id",
            "sender_ids",
            multiple=True,
            metavar="NAME",
            help="Registered alphanumeric sender ID (repeatable; replaces the list).",
        ),
        click.option(
            "--no-sender-ids", is_flag=True, default=None, help="Clear the registered sender IDs."
        ),
        click.option(
            "--require-registered-sender/--no-require-registered-sender",
            default=None,
            help="Refuse alphanumeric senders that are not registered (0x401).",
        ),
        click.option(
            "--default-sender",
            metavar="SENDER",
            help='Sender used when a submit leaves source_addr empty ("" for none).',
        ),
        click.option(
            "--max-parts", type=click.IntRange(1, 255), help="Most parts of one long message."
        ),
        click.option(
            "--receipt-ttl",
            metavar="DURATION",
            help="How long receipts and MO wait for a receiver bind (e.g. 72h).",
        ),
        click.option(
            "--receipt-per-message/--receipt-per-part",
            default=None,
            help="Kept for old scripts; changes nothing: a message smsc splits always gets "
            "one receipt, and parts submitted one by one one each.",
        ),
        click.option(
            "--hold-incomplete-sets",
            metavar="DURATION",
            help="Hold parts submitted one by one (UDH or SAR) until their set is complete, "
            "at most this long (e.g. 10m); 0 sends each part as it comes (the default).",
        ),
        click.option(
            "--recipient-local-time/--no-recipient-local-time",
            default=None,
            help="Read schedule times as the recipient's local wall-clock time.",
        ),
        click.option(
            "--blacklist-mode",
            type=click.Choice(["receipt", "refuse"]),
            help="Blacklisted destination: UNDELIV receipt (err 250), or refused at "
            "submit (0x402).",
        ),
        click.option(
            "--refund-failed/--no-refund-failed",
            default=None,
            help="Refund parts that end REJECTD or UNDELIV.",
        ),
        click.option(
            "--strict-numbers/--no-strict-numbers",
            default=None,
            help="Refuse destinations that are possible but in no assigned range (such as "
            "447700900123) with ESME_RINVDSTADR, instead of accepting them to end UNDELIV err 1.",
        ),
        click.option(
            "--outbind",
            "outbind_to",
            metavar="ENDPOINT",
            help="Connect here with an outbind when receipts or MO wait and no receiver is "
            "bound (tcp:host=HOST:port=PORT, or ssl:...).",
        ),
        click.option("--no-outbind", is_flag=True, default=None, help="Never outbind."),
        click.option(
            "--outbind-password",
            metavar="PW",
            help="Password the server presents in the outbind (at most 8 characters).",
        ),
        click.option(
            "--standard-statuses/--vendor-statuses",
            "standard_statuses",
            default=None,
            help="Answer with SMPP 3.4 statuses only: each vendor code (0x400-0x4FF) becomes "
            "a standard one (README, Statuses), for clients that fail on vendor codes.",
        ),
        click.option(
            "--lock-after",
            metavar="N|default",
            help="Wrong passwords in a row that lock the account from that address (0: never; "
            "default: server.lock_after, or test_account.lock_after for the test account).",
        ),
        click.option(
            "--lock-scope",
            type=click.Choice(["pair", "account"]),
            help="pair: wrong passwords lock the account from that address only (the default); "
            "account: wrong passwords from any address also lock the whole account.",
        ),
        click.option(
            "--webhook-url",
            metavar="URL",
            help="POST receipts and MO to this URL as signed JSON instead of to the SMPP "
            "receivers (docs/webhooks.md); the first one set makes the signing secret.",
        ),
        click.option("--no-webhook", is_flag=True, default=None,
                     help="Receipts and MO to the SMPP receivers again (the secret is kept)."),
        click.option("--new-webhook-secret", is_flag=True, default=None,
                     help="Replace the webhook signing secret with a fresh one."),
        click.option(
            "--enable/--disable",
            "enabled",
            default=None,
            help="A disabled account cannot bind; its binds are closed.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _sender(name: str, param: str) -> str:
    ton = Ton.INTERNATIONAL if name.isdigit() and name.isascii() else Ton.ALPHANUMERIC
    _, problem = sender_problem(name, ton)
    if problem is not None:
        raise click.BadParameter(f"{name!r}: {problem}", param_hint=param)
    return name


def apply_options(found: Account, options: dict[str, Any]) -> Account:
    """``found`` with every option that was given applied (checked like the server would)."""
    changes: dict[str, Any] = {}
    simple = (
        "max_binds",
        "throughput",
        "burst",
        "max_parts",
        "require_registered_sender",
        "receipt_per_message",
        "recipient_local_time",
        "refund_failed",
        "enabled",
        "strict_numbers",
        "standard_statuses",
    )
    for name in simple:
        if options.get(name) is not None:
            changes[name] = options[name]
    if options.get("allowed_ips"):
        try:
            changes["allowed_ips"] = check_cidrs(list(options["allowed_ips"]))
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--allowed-ip") from None
    if options.get("any_ip"):
        if options.get("allowed_ips"):
            raise click.UsageError("give --allowed-ip or --any-ip, not both")
        changes["allowed_ips"] = ()
    if options.get("bind_types") is not None:
        names = [n.strip().lower() for n in options["bind_types"].split(",") if n.strip()]
        unknown = [n for n in names if n not in _BIND_NAMES]
        if unknown or not names:
            raise click.BadParameter(
                f"{options['bind_types']!r}: use a comma-separated list of tx, rx, trx",
                param_hint="--bind-types",
            )
        changes["bind_types"] = frozenset(_BIND_NAMES[n] for n in names)
    if options.get("sender_ids"):
        changes["sender_ids"] = tuple(
            dict.fromkeys(_sender(s, "--sender-id") for s in options["sender_ids"])
        )
    if options.get("no_sender_ids"):
        if options.get("sender_ids"):
            raise click.UsageError("give --sender-id or --no-sender-ids, not both")
        changes["sender_ids"] = ()
    if options.get("default_sender") is not None:
        sender = options["default_sender"]
        changes["default_sender"] = _sender(sender, "--default-sender") if sender else ""
    if options.get("receipt_ttl") is not None:
        ttl = duration(options["receipt_ttl"], "--receipt-ttl")
        if ttl <= 0:
            raise click.BadParameter("must be longer than 0", param_hint="--receipt-ttl")
        changes["receipt_ttl"] = ttl
    if options.get("hold_incomplete_sets") is not None:
        hold = duration(options["hold_incomplete_sets"], "--hold-incomplete-sets")
        if hold < 0:
            raise click.BadParameter("must be 0 or more", param_hint="--hold-incomplete-sets")
        changes["hold_incomplete_sets"] = hold
    if options.get("blacklist_mode") is not None:
        changes["blacklist_mode"] = (
            BlacklistMode.REFUSE if options["blacklist_mode"] == "refuse" else BlacklistMode.RECEIPT
        )
    if options.get("outbind_to") is not None:
        if options.get("no_outbind"):
            raise click.UsageError("give --outbind or --no-outbind, not both")
        changes["outbind_to"] = _outbind_endpoint(options["outbind_to"])
    if options.get("no_outbind"):
        changes["outbind_to"] = ""
    if options.get("lock_after") is not None:
        text = options["lock_after"].strip().lower()
        if text == "default":
            changes["lock_after"] = None
        elif text.isdigit() and int(text) < 2**31:
            changes["lock_after"] = int(text)
        else:
            raise click.BadParameter(
                f"{options['lock_after']!r}: a whole number (0: never) or \"default\"",
                param_hint="--lock-after",
            )
    if options.get("lock_scope") is not None:
        changes["lock_scope"] = (
            LockScope.ACCOUNT if options["lock_scope"] == "account" else LockScope.PAIR
        )
    if options.get("webhook_url") is not None:
        if options.get("no_webhook"):
            raise click.UsageError("give --webhook-url or --no-webhook, not both")
        problem = webhook_url_problem(options["webhook_url"])
        if problem is not None:
            raise click.BadParameter(f"{options['webhook_url']!r}: {problem}",
                                     param_hint="--webhook-url")
        changes["webhook_url"] = options["webhook_url"]
        if not found.webhook_secret:
            changes["webhook_secret"] = new_webhook_secret()
    if options.get("no_webhook"):
        changes["webhook_url"] = ""
    if options.get("new_webhook_secret"):
        changes["webhook_secret"] = new_webhook_secret()
    if options.get("outbind_password") is not None:
        if options["outbind_password"]:
            _checked(check_password, options["outbind_password"], "--outbind-password")
        changes["outbind_password"] = options["outbind_password"]
    return dataclasses.replace(found, **changes)


_OUTBIND_KINDS = ("tcp", "ssl", "tls", "unix")


def _outbind_endpoint(value: str) -> str:
    """A client endpoint string, checked for its shape (the server parses it for real)."""
    kind, _, rest = value.partition(":")
    if kind not in _OUTBIND_KINDS or not rest:
        raise click.BadParameter(
            f"{value!r}: a client endpoint such as tcp:host=192.0.2.10:port=2776",
            param_hint="--outbind",
        )
    if kind in ("tcp", "ssl", "tls") and "host=" not in rest and rest.count(":") < 1:
        raise click.BadParameter(f"{value!r}: give the host and the port "
                                 "(tcp:host=HOST:port=PORT)", param_hint="--outbind")
    return value


def _checked(check: Callable[[T], Any], value: T, param: str) -> None:
    """``check(value)`` (a rule of smsc.routing.accounts), its ValueError a usage error."""
    try:
        check(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=param) from None


# --- commands ---------------------------------------------------------------------------------


@account.command("add")
@click.argument("system_id")
@click.option(
    "--password", help="SMPP password, 1 to 8 characters (default: a random one, printed once)."
)
@click.option(
    "--parent",
    metavar="SYSTEM_ID",
    help="Make it a sub-account of PARENT: its own login, drawing on PARENT's credit.",
)
@click.option(
    "--credit",
    "credit",
    default="0",
    show_default=True,
    help="Bought credit to start with, in the account's currency (e.g. 100 or 12.50).",
)
@click.option(
    "--currency",
    default=None,
    help="ISO 4217 currency code (default: money.currency of the config; a "
    "sub-account takes its parent's).",
)
@account_options
@pass_cli
def add(
    cli: CliContext,
    /,
    system_id: str,
    password: str | None,
    parent: str | None,
    credit: str,
    currency: str | None,
    **options: Any,
) -> None:
    """Create an account (and the database if it does not exist yet).

    \b
    Example:
      smsc --db smsc.sqlite account add acme --password s3cret --credit 100
      smsc account add acme-eu --parent acme --password eu123 --throughput 10
    """
    _checked(check_system_id, system_id, "SYSTEM_ID")
    generated = password is None
    if password is None:
        password = new_password()
    _checked(check_password, password, "--password")
    store = cli.store()
    parent_account = cli.account(parent) if parent else None
    if parent_account is not None:
        _checked(check_parent, parent_account, "--parent")
        _checked(lambda asked: sub_account_currency(parent_account, asked), currency,
                 "--currency")
        currency = parent_account.currency
    currency = (currency or cli.lenient_config.routing.currency).upper()
    try:
        check_currency(currency)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--currency") from None
    amount = cli.parse_money(credit, currency, "--credit")
    if parent_account is not None:
        _checked(check_sub_account_credit, amount, "--credit")
    now = cli.now()
    new = apply_options(
        Account(
            system_id=system_id,
            password_hash=hash_password(password),
            parent=parent,
            currency=currency,
            created_at=now,
            webhook_secret=new_webhook_secret(),  # every account's webhooks are signed
        ),
        options,
    )
    try:
        store.create_account(new)
    except AccountExists:
        raise click.ClickException(f"account {system_id} exists already") from None
    except UnknownAccount:
        raise click.BadParameter(f"no account {parent!r}", param_hint="--parent") from None
    if amount:
        store.credit(system_id, amount, Bucket.BOUGHT, now, note="initial credit")
    what = f"sub-account of {parent}" if parent else f"{cli.money(amount, currency)} credit"
    click.echo(f"account {system_id} created ({what})")
    if generated:
        click.echo(f"password: {password}  (shown once; change it with `smsc account passwd`)")
    if new.webhook_secret:
        click.echo(f"webhook secret: {new.webhook_secret}")


@account.command("set")
@click.argument("system_id")
@account_options
@pass_cli
def set_(cli: CliContext, /, system_id: str, **options: Any) -> None:
    """Change an account's settings; only the options given change.

    A running server applies them to open binds within a second.

    \b
    Example:
      smsc account set acme --throughput 50 --burst 100 --max-binds 4
      smsc account set acme --allowed-ip 203.0.113.0/24 --allowed-ip 198.51.100.7
      smsc account set acme --sender-id ACME --sender-id AcmeShop --require-registered-sender
      smsc account set acme --blacklist-mode refuse --refund-failed --disable
      smsc account set acme --webhook-url https://shop.example/smsc/events
    """
    found = cli.account(system_id)
    changed = apply_options(found, options)
    if changed == found:
        click.echo(f"account {system_id}: nothing to change (see `smsc account set --help`)")
        return
    cli.store().update_account(changed)
    names = [
        f.name
        for f in dataclasses.fields(Account)
        if getattr(found, f.name) != getattr(changed, f.name)
    ]
    click.echo(f"account {system_id}: changed {', '.join(names)}")
    if changed.webhook_secret != found.webhook_secret or (
            changed.webhook_url and not found.webhook_url):
        click.echo(f"webhook secret: {changed.webhook_secret}  (the receiver checks signatures "
                   "with it; `smsc account show` shows it again)")


@account.command("rm")
@click.argument("system_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--force", is_flag=True, help="Remove it even though it has credit left (settled to zero)."
)
@pass_cli
def rm(cli: CliContext, system_id: str, yes: bool, force: bool) -> None:
    """Remove an account (its sub-accounts must be removed first). Refused while it has credit
    left, unless --force: the credit is then settled to zero with a ledger row ("account
    removed"), so a new account of the same name starts at zero. Its messages and ledger stay
    in the database for reports.

    \b
    Example:
      smsc account rm acme-eu --yes
      smsc account rm acme --force --yes
    """
    found = cli.account(system_id)
    now = cli.now()
    try:
        check_removal(cli.store(), found, now, force=force)
    except HasSubAccounts as e:
        raise click.ClickException(str(e)) from None
    except CreditLeft as e:
        raise click.ClickException(
            f"account {system_id} has {cli.money(e.amount, found.currency)} credit left: "
            "give --force to remove it anyway (the credit is settled to zero with a "
            "ledger row)"
        ) from None
    if not yes and not click.confirm(f"remove account {system_id}?"):
        raise click.ClickException("not removed")
    try:
        cli.store().delete_account(system_id, now=now)
    except StoreError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"account {system_id} removed")


def _info(cli: CliContext, found: Account) -> dict[str, Any]:
    store = cli.store()
    now = cli.now()
    try:
        balance = store.balance(found.credit_owner, now)
    except UnknownAccount:
        raise click.ClickException(f"the credit owner of {found.system_id} is missing") from None
    lock = store.bind_locks(found.system_id, "").account
    pairs = [
        {
            "address": f.address,
            "failures": f.failures,
            "locked_until": iso(f.locked_until) if f.locked(now) else None,
        }
        for f in store.locks(now)
        if f.kind == LockKind.PAIR and f.system_id == found.system_id
    ]
    subs = [a.system_id for a in store.list_accounts() if a.parent == found.system_id]
    return {
        "system_id": found.system_id,
        "parent": found.parent,
        "sub_accounts": subs,
        "test_account": found.test_account,
        "enabled": found.enabled,
        "locked": lock.locked(now),
        "locked_until": iso(lock.locked_until) if lock.locked(now) else None,
        "failed_binds": lock.failures,
        "locked_from": pairs,  # per address: wrong passwords counted, and locks
        "lock_after": found.lock_after,
        "lock_scope": found.lock_scope.name.lower(),
        "currency": found.currency,
        "balance": {
            "bought": balance.bought,
            "subscription": balance.subscription_now(now),
            "subscription_expires_at": balance.subscription_expires_at,
            "available": balance.available(now),
        },
        "max_binds": found.max_binds,
        "bind_types": sorted(b.short for b in found.bind_types),
        "allowed_ips": list(found.allowed_ips),
        "throughput": found.throughput,
        "burst": found.burst,
        "max_parts": found.max_parts,
        "sender_ids": list(found.sender_ids),
        "require_registered_sender": found.require_registered_sender,
        "default_sender": found.default_sender,
        "receipt_ttl": found.receipt_ttl,
        "receipt_per_message": found.receipt_per_message,
        "hold_incomplete_sets": found.hold_incomplete_sets,
        "recipient_local_time": found.recipient_local_time,
        "blacklist_mode": found.blacklist_mode.name.lower(),
        "refund_failed": found.refund_failed,
        "outbind_to": found.outbind_to,
        "webhook_url": found.webhook_url,
        "webhook_secret": found.webhook_secret,
        "strict_numbers": found.strict_numbers,
        "standard_statuses": found.standard_statuses,
        "created_at": iso(found.created_at),
    }


@account.command("show")
@click.argument("system_id")
@JSON_OPTION
@pass_cli
def show(cli: CliContext, system_id: str, as_json: bool) -> None:
    """Show an account's settings, balance and lock state.

    Amounts in --json are minor units (cents) of the account's currency.

    \b
    Example:
      smsc account show smsctest --json
    """
    found = cli.account(system_id)
    info = _info(cli, found)
    if as_json:
        echo_json(info)
        return
    money = cli.money
    cur = found.currency
    balance = info["balance"]
    rows: list[tuple[str, str]] = [
        ("account", found.system_id + (" (test account)" if found.test_account else "")),
    ]
    if found.test_account:
        rows.append(("password", f"stored as a hash; `smsc account passwd {found.system_id}` "
                                 "prints a new one"))
    if found.parent:
        rows.append(("parent", f"{found.parent} (draws on its credit)"))
    if info["sub_accounts"]:
        rows.append(("sub-accounts", ", ".join(info["sub_accounts"])))
    state = "enabled" if found.enabled else "disabled"
    if info["locked"]:
        state += f", locked until {info['locked_until']}"
    if info["failed_binds"]:
        state += f", {info['failed_binds']} failed bind(s) in a row"
    for pair in info["locked_from"]:
        if pair["locked_until"]:
            state += f", locked from {pair['address']} until {pair['locked_until']}"
        else:
            state += f", {pair['failures']} wrong password(s) from {pair['address']}"
    rows += [
        ("state", state),
        (
            "balance",
            f"{money(balance['available'], cur)} (bought {money(balance['bought'], cur)},"
            f" subscription {money(balance['subscription'], cur)}"
            + (
                f" until {iso(balance['subscription_expires_at'])}"
                if balance["subscription"]
                else ""
            )
            + ")",
        ),
        (
            "binds",
            f"at most {found.max_binds}, types {', '.join(info['bind_types'])}, from "
            + (", ".join(found.allowed_ips) or "any address"),
        ),
        (
            "throughput",
            (f"{found.throughput:g} msg/s" if found.throughput else "unlimited")
            + (f", burst {found.burst}" if found.burst else ""),
        ),
        ("parts", f"at most {found.max_parts} per message"),
        (
            "senders",
            (", ".join(found.sender_ids) or "none registered")
            + (" (registration required)" if found.require_registered_sender else "")
            + (f"; default {found.default_sender}" if found.default_sender else ""),
        ),
        (
            "receipts",
            f"kept {found.receipt_ttl / 3600:g} h for a receiver, one per message",
        ),
        (
            "long messages",
            f"parts submitted one by one held up to {found.hold_incomplete_sets:g} s "
            "for their set"
            if found.hold_incomplete_sets
            else "parts submitted one by one sent as they come",
        ),
        (
            "blacklisted",
            "receipt UNDELIV err 250"
            if found.blacklist_mode == BlacklistMode.RECEIPT
            else "refused at submit (0x402)",
        ),
        ("refunds", "REJECTD and UNDELIV parts refunded" if found.refund_failed else "none"),
        ("lockout", _lockout(found)),
        ("outbind", found.outbind_to or "never"),
        ("webhooks", f"receipts and MO POSTed to {found.webhook_url}" if found.webhook_url
         else "none: receipts and MO to the SMPP receivers"),
        *([("webhook secret", found.webhook_secret)] if found.webhook_secret else []),
        (
            "numbers",
            "valid numbers only (unassigned ranges refused, 0x0B)"
            if found.strict_numbers
            else "unassigned ranges accepted, end UNDELIV err 1",
        ),
        (
            "statuses",
            "SMPP 3.4 only (vendor codes mapped)"
            if found.standard_statuses
            else "SMPP 3.4 and vendor codes 0x400-0x4FF",
        ),
        (
            "local time",
            "schedules in the recipient's time zone"
            if found.recipient_local_time
            else "schedules as given",
        ),
    ]
    width = max(len(k) for k, _ in rows) + 2
    for key, value in rows:
        click.echo(f"{key.ljust(width)}{value}")


def _lockout(found: Account) -> str:
    if found.lock_after == 0:
        count = "never locked by wrong passwords"
    elif found.lock_after is None:
        count = "after the server's count of wrong passwords in a row" + (
            " (test_account.lock_after)" if found.test_account else " (server.lock_after)"
        )
    else:
        count = f"after {found.lock_after} wrong passwords in a row"
    scope = "from any address" if found.lock_scope == LockScope.ACCOUNT else "from one address"
    return count if found.lock_after == 0 else f"{count} {scope}"


@account.command("list")
@JSON_OPTION
@pass_cli
def list_(cli: CliContext, as_json: bool) -> None:
    """List every account with its balance and state.

    \b
    Example:
      smsc account list
      smsc account list --json | jq '.[].system_id'
    """
    store = cli.store()
    now = cli.now()
    rows: list[dict[str, Any]] = []
    for found in sorted(store.list_accounts(), key=lambda a: a.system_id):
        balance = store.balance(found.credit_owner, now).available(now)
        lock = store.bind_locks(found.system_id, "").account
        rows.append(
            {
                "system_id": found.system_id,
                "parent": found.parent,
                "enabled": found.enabled,
                "locked": lock.locked(now),
                "currency": found.currency,
                "available": balance,
                "throughput": found.throughput,
                "max_binds": found.max_binds,
                "test_account": found.test_account,
            }
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no accounts (add one with `smsc account add`)")
        return
    echo_table(
        ["ACCOUNT", "PARENT", "STATE", "BALANCE", "MSG/S", "BINDS"],
        [
            [
                r["system_id"] + (" *" if r["test_account"] else ""),
                r["parent"] or "",
                ("enabled" if r["enabled"] else "disabled") + (", locked" if r["locked"] else ""),
                cli.money(r["available"], r["currency"]) + (" (parent's)" if r["parent"] else ""),
                f"{r['throughput']:g}" if r["throughput"] else "-",
                r["max_binds"],
            ]
            for r in rows
        ],
    )
    if any(r["test_account"] for r in rows):
        click.echo("* test account")


@account.command("passwd")
@click.argument("system_id")
@click.option("--password", help="The new password (default: asked for, or --generate).")
@click.option(
    "--generate",
    is_flag=True,
    help="Pick a random password and print it (what the test account gets without --password).",
)
@pass_cli
def passwd(cli: CliContext, system_id: str, password: str | None, generate: bool) -> None:
    """Set an account's password (stored hashed; binds with the old one fail from now on).

    Passwords are never stored in clear, the test account's neither: this is how to get a
    password for it again (without --password it gets a new random one, printed).

    \b
    Example:
      smsc account passwd acme --password n3wpass
      smsc account passwd acme --generate
      smsc account passwd smsctest
    """
    found = cli.account(system_id)
    if generate and password:
        raise click.UsageError("give --password or --generate, not both")
    generate = generate or (found.test_account and password is None)
    if generate:
        password = new_password()
    elif password is None:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    assert password is not None
    _checked(check_password, password, "--password")
    store = cli.store()
    store.update_account(dataclasses.replace(found, password_hash=hash_password(password)))
    click.echo(f"password of {system_id} changed" + (f": {password}" if generate else ""))

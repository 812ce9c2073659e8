"""``smsc report ...``: every part of every message, and summaries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, csv_output, echo_json, echo_table, iso, when
from smsc.pdu.constants import MessageState
from smsc.pdu.receipt_text import ReceiptError, stat_for_state, state_for_stat
from smsc.routing.prices import parse_amount
from smsc.store.records import MessageFilter, StoredMessage, SummaryRow

F = TypeVar("F", bound=Callable[..., Any])
SCREEN_LIMIT: Final = 1_000
OUTBOX_SCAN: Final = 100_000
_GROUPS: Final = {
    "account": "account",
    "operator": "operator",
    "status": "state",
    "state": "state",
    "route": "route",
}


@click.group()
def report() -> None:
    """Reports on messages: each part's life, and summaries per account, operator, status.

    Times are UTC. --since/--until take an ISO date or time (2025-01-31, 2025-01-31T14:00+02:00)
    or a duration ago (90m, 2h, 7d).

    \b
    Example:
      smsc report messages --account acme --since 1h
      smsc report summary --by operator --by status --since 2025-01-01 --csv jan.csv
    """


def filter_options(function: F) -> F:
    options = [
        click.option("--account", metavar="SYSTEM_ID", help="Only this account's messages."),
        click.option(
            "--status",
            metavar="STAT",
            help="Only parts in this state: DELIVRD, UNDELIV, REJECTD, EXPIRED, "
            "DELETED, UNKNOWN, ACCEPTD or ENROUTE.",
        ),
        click.option("--operator", metavar="NAME", help="Only parts for this operator."),
        click.option("--since", metavar="WHEN", help="Submitted at or after WHEN."),
        click.option("--until", metavar="WHEN", help="Submitted before WHEN."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def parse_status(text: str) -> int:
    word = text.strip()
    try:
        return int(state_for_stat(word.upper()))
    except ReceiptError:
        pass
    try:
        return int(MessageState[word.upper()])
    except KeyError:
        raise click.BadParameter(
            f"{text!r} is not a status: use DELIVRD, UNDELIV, REJECTD, EXPIRED, DELETED, UNKNOWN, "
            "ACCEPTD or ENROUTE",
            param_hint="--status",
        ) from None


def message_filter(
    cli: CliContext,
    *,
    account: str | None,
    status: str | None,
    operator: str | None,
    since: str | None,
    until: str | None,
    message_id: int | None = None,
    limit: int | None = None,
) -> MessageFilter:
    now = cli.now()
    start = when(since, now, "--since") if since else None
    end = when(until, now, "--until") if until else None
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("must be after --since", param_hint="--until")
    return MessageFilter(
        account=account or None,
        state=parse_status(status) if status else None,
        operator=operator or None,
        since=start,
        until=end,
        message_id=message_id,
        limit=limit,
    )


def _stat(state: int) -> str:
    try:
        return stat_for_state(state)
    except (ReceiptError, ValueError):
        return str(state)


def receipt_status(part: StoredMessage, waiting: set[int]) -> str:
    """What became of the receipt of a part: "not requested", "pending" (the part is not
    final), "not due" (failures only were asked for), "waiting" (in the outbox for a receiver
    bind or its webhook), "sent" (left the outbox: acknowledged, or dropped after the
    account's receipt TTL)."""
    wanted = part.registered_delivery & 0x03
    if wanted in (0, 3):
        return "not requested"
    if part.state == MessageState.ENROUTE:
        return "pending"
    if wanted == 2 and part.state == MessageState.DELIVERED:
        return "not due"
    return "waiting" if part.message_id in waiting else "sent"


def _waiting(cli: CliContext, accounts: set[str]) -> set[int]:
    store = cli.store()
    now = cli.now()
    ids: set[int] = set()
    for account in accounts:
        for hooked in (False, True):  # for its SMPP receivers, and for its webhooks
            for item in store.outbox_for(account, 0, OUTBOX_SCAN, now, hooked=hooked):
                if item.message_id is not None:
                    ids.add(item.message_id)
    return ids


def part_row(
    cli: CliContext, part: StoredMessage, waiting: set[int], currencies: dict[str, str]
) -> dict[str, Any]:
    currency = currencies.get(part.account, cli.lenient_config.routing.currency)
    return {
        "message_id": cli.ids.format(part.message_id),
        "part": f"{part.part_index}/{part.part_total}",
        "account": part.account,
        "source": part.source_addr,
        "destination": part.destination_addr,
        "route": part.route,
        "operator": part.operator,
        "price": cli.amount(part.price, currency),
        "charged": cli.amount(part.charged_subscription + part.charged_bought, currency),
        "refunded": cli.amount(part.refunded, currency),
        "currency": currency,
        "status": _stat(part.state),
        "err": part.error_code,
        "attempts": part.attempts,
        "submitted_at": iso(part.submitted_at, millis=True),
        "scheduled_at": iso(part.scheduled_at, millis=True),
        "next_attempt_at": iso(part.next_at, millis=True),
        "done_at": iso(part.done_at, millis=True),
        "expires_at": iso(part.expires_at, millis=True),
        "receipt": receipt_status(part, waiting),
        "blacklisted": part.blacklisted,
        "text": part.text_snippet,
    }


@report.command("messages")
@filter_options
@click.option("--message-id", "message_id", metavar="ID", help="Only this message's parts.")
@click.option(
    "--limit",
    type=click.IntRange(1),
    help=f"At most N parts (default {SCREEN_LIMIT} on screen, all with --csv/--json).",
)
@click.option("--csv", "csv_file", metavar="FILE", help="Write CSV to FILE (- for stdout).")
@JSON_OPTION
@pass_cli
def messages(
    cli: CliContext,
    account: str | None,
    status: str | None,
    operator: str | None,
    since: str | None,
    until: str | None,
    message_id: str | None,
    limit: int | None,
    csv_file: str | None,
    as_json: bool,
) -> None:
    """Every part of the messages that match: route, operator, price, state with its times,
    and what became of its receipt.

    \b
    Example:
      smsc report messages --account acme --status UNDELIV --since 24h
      smsc report messages --message-id 0000002a
      smsc report messages --since 2025-01-01 --until 2025-02-01 --csv january.csv
    """
    number: int | None = None
    if message_id is not None:
        number = cli.ids.parse(message_id.strip())
        if number is None:
            raise click.BadParameter(
                f"{message_id!r} is not a message id of this server", param_hint="--message-id"
            )
    screen = not (csv_file or as_json)
    wanted = limit if limit is not None else (SCREEN_LIMIT + 1 if screen else None)
    query = message_filter(
        cli,
        account=account,
        status=status,
        operator=operator,
        since=since,
        until=until,
        message_id=number,
        limit=wanted,
    )
    parts = list(cli.store().messages(query))
    cut = screen and limit is None and len(parts) > SCREEN_LIMIT
    parts = parts[:SCREEN_LIMIT] if cut else parts
    waiting = _waiting(cli, {p.account for p in parts})
    currencies = {a.system_id: a.currency for a in cli.store().list_accounts()}
    rows = [part_row(cli, p, waiting, currencies) for p in parts]
    if csv_file:
        with csv_output(csv_file) as writer:
            writer.writerow(list(rows[0]) if rows else _COLUMNS)
            for row in rows:
                writer.writerow(list(row.values()))
        if csv_file != "-":
            click.echo(f"{len(rows)} parts written to {csv_file}")
        return
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no messages match")
        return
    echo_table(
        [
            "MESSAGE",
            "PART",
            "ACCOUNT",
            "TO",
            "ROUTE",
            "OPERATOR",
            "PRICE",
            "STATUS",
            "ERR",
            "SUBMITTED",
            "DONE",
            "RECEIPT",
        ],
        [
            [
                r["message_id"],
                r["part"],
                r["account"],
                r["destination"],
                r["route"],
                r["operator"],
                f"{r['price']} {r['currency']}",
                r["status"],
                r["err"],
                r["submitted_at"],
                r["done_at"] or "-",
                r["receipt"],
            ]
            for r in rows
        ],
    )
    if cut:
        click.echo(f"(the first {SCREEN_LIMIT} parts; use --limit, --csv or --json for more)")


_COLUMNS: Final = [
    "message_id",
    "part",
    "account",
    "source",
    "destination",
    "route",
    "operator",
    "price",
    "charged",
    "refunded",
    "currency",
    "status",
    "err",
    "attempts",
    "submitted_at",
    "scheduled_at",
    "next_attempt_at",
    "done_at",
    "expires_at",
    "receipt",
    "blacklisted",
    "text",
]


def _group_names(values: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for value in values:
        for raw in value.split(","):
            word = raw.strip().lower()
            if not word:
                continue
            if word not in _GROUPS:
                raise click.BadParameter(
                    f"{word!r}: group by account, operator, status or route", param_hint="--by"
                )
            if word not in names:
                names.append(word)
    return names or ["account"]


def summary_rows(
    cli: CliContext, names: list[str], rows: list[SummaryRow], currencies: dict[str, str]
) -> list[dict[str, Any]]:
    """The store's rows, grouped by ``names`` and by currency: ``rows`` are also grouped by
    account (its last key), whose currency decides; amounts of different currencies are never
    added together."""
    default = cli.lenient_config.routing.currency
    merged: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}
    for row in rows:
        *key, account = row.key
        currency = currencies.get(account, default)
        out = merged.get((tuple(key), currency))
        if out is None:
            out = merged[(tuple(key), currency)] = {
                **{
                    n: _stat(int(v)) if _GROUPS[n] == "state" else v
                    for n, v in zip(names, key, strict=True)
                },
                "currency": currency,
                "messages": 0,
                "parts": 0,
                "charged": 0,
                "refunded": 0,
                "states": {},
            }
        out["messages"] += row.messages
        out["parts"] += row.parts
        out["charged"] += row.charged
        out["refunded"] += row.refunded
        for state, count in row.states.items():
            out["states"][state] = out["states"].get(state, 0) + count
    for out in merged.values():
        out["charged"] = cli.amount(out["charged"], out["currency"])
        out["refunded"] = cli.amount(out["refunded"], out["currency"])
        out["states"] = {_stat(state): count for state, count in sorted(out["states"].items())}
    return list(merged.values())


def currency_totals(cli: CliContext, rows: list[dict[str, Any]]) -> list[str]:
    """One line per currency: the rows' messages, parts and money in that currency."""
    totals: dict[str, list[int]] = {}
    for r in rows:
        decimals = cli.decimals(r["currency"])
        total = totals.setdefault(r["currency"], [0, 0, 0, 0])
        total[0] += r["messages"]
        total[1] += r["parts"]
        total[2] += parse_amount(r["charged"], decimals, negative=True)
        total[3] += parse_amount(r["refunded"], decimals, negative=True)
    return [
        f"total {c}: {m} messages, {p} parts, charged {cli.money(ch, c)}, "
        f"refunded {cli.money(rf, c)}"
        for c, (m, p, ch, rf) in sorted(totals.items())
    ]


@report.command("summary")
@filter_options
@click.option(
    "--by",
    "by",
    multiple=True,
    metavar="FIELD",
    help="Group by account, operator, status or route (repeatable or "
    "comma-separated; default: account).",
)
@click.option("--csv", "csv_file", metavar="FILE", help="Write CSV to FILE (- for stdout).")
@JSON_OPTION
@pass_cli
def summary(
    cli: CliContext,
    account: str | None,
    status: str | None,
    operator: str | None,
    since: str | None,
    until: str | None,
    by: tuple[str, ...],
    csv_file: str | None,
    as_json: bool,
) -> None:
    """Counts of messages and parts, money charged and refunded, and parts per status, per
    account, operator, status or route.

    \b
    Example:
      smsc report summary
      smsc report summary --by operator,status --since 7d
      smsc report summary --by account --account acme --csv -
    """
    names = _group_names(by)
    query = message_filter(
        cli, account=account, status=status, operator=operator, since=since, until=until
    )
    groups = [_GROUPS[n] for n in names] + ["account"]  # the account decides the currency
    currencies = {a.system_id: a.currency for a in cli.store().list_accounts()}
    rows = summary_rows(cli, names, cli.store().summary(groups, query), currencies)
    stats = sorted({s for r in rows for s in r["states"]})
    if csv_file:
        with csv_output(csv_file) as writer:
            writer.writerow(
                [*names, "messages", "parts", "charged", "refunded", "currency", *stats]
            )
            for r in rows:
                writer.writerow(
                    [
                        *(r[n] for n in names),
                        r["messages"],
                        r["parts"],
                        r["charged"],
                        r["refunded"],
                        r["currency"],
                        *(r["states"].get(s, 0) for s in stats),
                    ]
                )
        if csv_file != "-":
            click.echo(f"{len(rows)} rows written to {csv_file}")
        return
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no messages match")
        return
    echo_table(
        [*(n.upper() for n in names), "MESSAGES", "PARTS", "CHARGED", "REFUNDED", *stats],
        [
            [
                *(r[n] for n in names),
                r["messages"],
                r["parts"],
                f"{r['charged']} {r['currency']}",
                f"{r['refunded']} {r['currency']}",
                *(r["states"].get(s, 0) for s in stats),
            ]
            for r in rows
        ],
    )
    for line in currency_totals(cli, rows):
        click.echo(line)

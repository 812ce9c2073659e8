"""``smsc node list``: the nodes sharing the database (docs/cluster.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table


@click.group()
def node() -> None:
    """The smsc nodes sharing this database (several nodes on PostgreSQL: docs/cluster.md).

    \b
    Example:
      smsc --db postgresql://smsc@db.example/smsc node list
    """


@node.command("list")
@JSON_OPTION
@pass_cli
def list_nodes(cli: CliContext, as_json: bool) -> None:
    """Every node with a heartbeat row: live or not (by the config's server.node_lease), when
    it started and last beat, its listeners, its binds and the accounts whose receipts and MO
    it delivers (their outbox leases).

    \b
    Example:
      smsc --db postgresql://smsc@db.example/smsc node list
      smsc --db postgresql://smsc@db.example/smsc node list --json
    """
    store = cli.store()
    now = cli.now()
    lease = cli.lenient_config.server.node_lease
    leases = store.outbox_leases(now)
    rows: list[dict[str, Any]] = []
    for info in store.nodes():
        delivers = sorted(a for a, n in leases.items() if n == info.node)
        rows.append({"node": info.node, "live": info.live(now, lease),
                     "started_at": _when(info.started_at), "seen_at": _when(info.seen_at),
                     "seconds_since_heartbeat": round(now - info.seen_at, 1),
                     "listens": info.about, "delivers_for": delivers})
    binds = store.bind_counts(now, lease)
    if as_json:
        echo_json({"nodes": rows, "binds_per_account": binds})
        return
    if not rows:
        click.echo("no nodes (none is running on this database, or it is SQLite: one node, "
                   "not registered)" if not store.shared_by_nodes else "no nodes running")
        return
    echo_table(["node", "live", "started", "last heartbeat", "listens", "delivers for"],
               [(r["node"], "yes" if r["live"] else "NO", r["started_at"],
                 f"{r['seconds_since_heartbeat']} s ago", r["listens"],
                 ", ".join(r["delivers_for"])) for r in rows])
    if binds:
        click.echo("binds (all nodes): " + ", ".join(f"{a} {n}" for a, n in sorted(
            binds.items())))


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


__all__ = ["node"]

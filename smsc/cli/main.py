"""The top-level group and its global options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from smsc.cli import (
    account_locks,  # noqa: F401  (account lock, unlock, locks)
    campaign_commands,  # noqa: F401  (campaign create, start, ..., show)
)
from smsc.cli.accounts import account
from smsc.cli.apikeys import apikey
from smsc.cli.bench import bench
from smsc.cli.blacklist import blacklist
from smsc.cli.campaigns import campaign
from smsc.cli.config_commands import config
from smsc.cli.contact_lists import contact_list
from smsc.cli.context import CliContext
from smsc.cli.credit import credit
from smsc.cli.mo import mo
from smsc.cli.operators import operator
from smsc.cli.opt_outs import optout
from smsc.cli.outcome_rules import outcome
from smsc.cli.prices import price
from smsc.cli.reports import report
from smsc.cli.routes import route, routes
from smsc.cli.send import send
from smsc.cli.serve import serve
from smsc.cli.webhooks import webhook
from smsc.config.edit import EditError
from smsc.config_error import ConfigError
from smsc.store.base import StoreError
from smsc.store.location import database_errors


class SmscGroup(click.Group):
    """A group that turns the errors of a user's mistake into a one-line message and exit
    code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as e:
            raise click.ClickException(f"config: {e}") from None
        except EditError as e:
            raise click.ClickException(str(e)) from None
        except StoreError as e:
            raise click.ClickException(f"store: {e}") from None
        except database_errors() as e:  # sqlite3's, psycopg's (a PostgreSQL that went away)
            raise click.ClickException(f"database: {str(e).strip()}") from None
        except BrokenPipeError:  # the reader went away (``smsc ... | head``): stop quietly
            raise click.exceptions.Exit(1) from None
        except OSError as e:
            where = f" ({e.filename})" if e.filename else ""
            raise click.ClickException(f"{e.strerror or e}{where}") from None


@click.group(
    cls=SmscGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    "db_path",
    metavar="FILE|URL",
    help="SQLite database file, or a PostgreSQL URL such as "
    "postgresql://smsc@db.example/smsc for several nodes (default: server.database of the "
    "config, smsc.sqlite in the working directory).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: conf/smsc.toml if it exists, else built-in defaults).",
)
@click.version_option(package_name="smsc")
@click.pass_context
def main(ctx: click.Context, db_path: str | None, config_path: Path | None) -> None:
    """smsc: an SMPP 3.4 server and SMS-centre simulator with a routing core.

    \b
    Example:
      smsc serve                       # start on smsc.sqlite, 127.0.0.1:2775
      smsc --db /var/lib/smsc.sqlite account show smsctest
    """
    cli = CliContext(db_path=db_path, config_path=config_path)
    ctx.obj = cli
    ctx.call_on_close(cli.close)


for command in (
    serve,
    config,
    account,
    apikey,
    credit,
    blacklist,
    operator,
    outcome,
    route,
    routes,
    price,
    report,
    send,
    mo,
    webhook,
    bench,
    contact_list,
    campaign,
    optout,
):
    main.add_command(command)

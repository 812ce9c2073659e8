"""The top-level group and its global options."""

from __future__ import annotations

from pathlib import Path

import click

from smsc.cli.accounts import account
from smsc.cli.context import CliContext
from smsc.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite database file (default: server.database of the config, "
                   "smsc.sqlite in the working directory).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Config file (default: conf/smsc.toml if it exists, else built-in defaults).")
@click.version_option(package_name="smsc")
@click.pass_context
def main(ctx: click.Context, db_path: Path | None, config_path: Path | None) -> None:
    """smsc: an SMPP 3.4 server and SMS-centre simulator with a routing core.

    \b
    Example:
      smsc serve                       # start on smsc.sqlite, 127.0.0.1:2775
      smsc --db /var/lib/smsc.sqlite account show smsctest
    """
    cli = CliContext(db_path=db_path, config_path=config_path)
    ctx.obj = cli
    ctx.call_on_close(cli.close)


main.add_command(serve)
main.add_command(account)

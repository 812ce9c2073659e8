"""``smsc serve``: run the server."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.config.check import load_located
from smsc.config.endpoints import EndpointError, endpoint_files, server_endpoint
from smsc.config.loader import Config
from smsc.core.accounts import ensure_test_account
from smsc.server.affinity import AffinityError, pin
from smsc.store.sqlite import SqliteStore


@click.command()
@click.option("--listen", "listen", multiple=True, metavar="ENDPOINT",
              help="Twisted endpoint to listen on, repeatable, e.g. "
                   "tcp:2775:interface=127.0.0.1 or ssl:3550:privateKey=key.pem:certKey=cert.pem; "
                   "a bare port such as 2776 means tcp:2776:interface=127.0.0.1 "
                   "(default: server.listen of the config).")
@click.option("--metrics", "metrics", metavar="ENDPOINT", default=None,
              help="Serve GET /metrics (Prometheus text) on this endpoint, e.g. "
                   "tcp:9465:interface=127.0.0.1 (default: server.metrics of the config).")
@click.option("--http", "http", multiple=True, metavar="ENDPOINT",
              help="Serve the HTTP API on this endpoint, repeatable, e.g. "
                   "tcp:8080:interface=127.0.0.1; --http '' turns it off (default: http.listen "
                   "of the config).")
@click.option("--pin-cpu", "pin_cpu", type=click.IntRange(-1, 4095), default=None,
              metavar="CPU",
              help="Keep the event loop and the store thread on this CPU (Linux; -1: any), "
                   "see server.pin_cpu in conf/smsc.toml (default: server.pin_cpu of the "
                   "config).")
@pass_cli
def serve(cli: CliContext, listen: tuple[str, ...], metrics: str | None,
          http: tuple[str, ...], pin_cpu: int | None) -> None:
    """Run the SMS centre until Ctrl-C or SIGTERM (then unbind everyone, flush, exit 0).

    On first start the test account is created and its credentials printed. The config is read
    again on SIGHUP and whenever one of its files changes; binds stay up, and a config with a
    mistake is refused whole (the running one stays).

    \b
    Example:
      smsc serve
      smsc --db /tmp/smsc.sqlite serve --listen tcp:2776:interface=127.0.0.1
      smsc serve --metrics tcp:9465:interface=127.0.0.1
      smsc serve --http tcp:8080:interface=127.0.0.1
      smsc serve --pin-cpu 1
    """
    from smsc.server.run import serve as run_server

    try:
        listen = tuple(server_endpoint(e) for e in listen)
    except EndpointError as e:
        raise click.BadParameter(str(e), param_hint="--listen") from None
    try:
        metrics = server_endpoint(metrics) if metrics else metrics
    except EndpointError as e:
        raise click.BadParameter(str(e), param_hint="--metrics") from None
    try:
        http_listen = tuple(server_endpoint(e) for e in http if e)
    except EndpointError as e:
        raise click.BadParameter(str(e), param_hint="--http") from None
    config = cli.config  # checked whole before anything (the database included) is created
    if http:  # given: these endpoints instead of the config's ("" alone: none)
        config = dataclasses.replace(config, http=dataclasses.replace(config.http,
                                                                      listen=http_listen))
    if listen:
        config = dataclasses.replace(config, server=dataclasses.replace(config.server,
                                                                        listen=listen))
    if metrics is not None:
        config = dataclasses.replace(config, server=dataclasses.replace(config.server,
                                                                        metrics=metrics))
    if pin_cpu is not None:
        config = dataclasses.replace(config, server=dataclasses.replace(config.server,
                                                                        pin_cpu=pin_cpu))
    for endpoint in (*config.server.listen, config.server.metrics, *config.http.listen):
        for name in endpoint_files(endpoint):
            if not Path(name).is_file():
                raise click.ClickException(f"{endpoint}: no such file {name!r}")
    if config.server.pin_cpu >= 0:  # before any thread starts: they inherit it
        try:
            pin(config.server.pin_cpu)
        except AffinityError as e:
            raise click.ClickException(str(e)) from None
    store = cli.store()
    cli._store = None  # the server owns it now and closes it
    if isinstance(store, SqliteStore):
        store.checkpoint_in_background()
    settings = config.server.test_account
    account, password = ensure_test_account(
        store, system_id=settings.system_id, password=settings.password,
        credit=settings.credit, currency=settings.currency, throughput=settings.throughput,
        now=cli.now())
    if password is not None:
        balance = store.balance(account.system_id, cli.now())
        click.echo(f"test account: system_id={account.system_id} password={password} "
                   f"credit={cli.money(balance.available(cli.now()), account.currency)} "
                   f"(shown once: it is stored only as a hash; "
                   f"`smsc account passwd {account.system_id}` prints a new one)")
    else:
        click.echo(f"test account: system_id={account.system_id} (created earlier; its "
                   f"password is stored only as a hash: `smsc account passwd "
                   f"{account.system_id}` prints a new one)")
    sys.stdout.flush()

    def announce(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    def reload_config() -> Config:
        return load_located(cli.config_path)

    raise SystemExit(run_server(config, store, announce=announce, reload_config=reload_config))

"""``smsc account set --webhook-url``: receipts and MO of an account by signed webhook."""

from __future__ import annotations

from tests.cli.conftest import Cli


def test_an_account_has_a_secret_shown_with_its_first_webhook_url_and_kept(cli: Cli) -> None:
    out = cli("account", "add", "acme", "--password", "s3cret")
    made = out.split("webhook secret: ")[1].split()[0]  # every account has one from the start
    out = cli("account", "set", "acme", "--webhook-url", "https://shop.example/hook")
    assert "changed webhook_url" in out
    secret = out.split("webhook secret: ")[1].split()[0]  # shown with the first URL
    assert len(secret) == 64 and secret == made
    info = cli.json("account", "show", "acme")
    assert info["webhook_url"] == "https://shop.example/hook"
    assert info["webhook_secret"] == secret
    assert "POSTed to https://shop.example/hook" in cli("account", "show", "acme")
    out = cli("account", "set", "acme", "--webhook-url", "http://127.0.0.1:9/other")
    assert "webhook secret" not in out  # the secret stays
    assert cli.json("account", "show", "acme")["webhook_secret"] == secret
    cli("account", "set", "acme", "--no-webhook")
    info = cli.json("account", "show", "acme")
    assert info["webhook_url"] == "" and info["webhook_secret"] == secret
    assert "to the SMPP receivers" in cli("account", "show", "acme")
    out = cli("account", "set", "acme", "--new-webhook-secret")
    assert cli.json("account", "show", "acme")["webhook_secret"] not in (secret, "")


def test_a_bad_webhook_url_is_refused(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "s3cret")
    cli.fails("account", "set", "acme", "--webhook-url", "ftp://x/", code=2,
              says="must start with http:// or https://")
    cli.fails("account", "set", "acme", "--webhook-url", "https://x/", "--no-webhook", code=2,
              says="not both")
    assert cli.json("account", "show", "acme")["webhook_url"] == ""


def test_an_account_added_with_a_webhook_shows_its_secret(cli: Cli) -> None:
    out = cli("account", "add", "shop", "--password", "s3cret", "--webhook-url",
              "https://shop.example/hook")
    assert "webhook secret: " in out


def test_webhook_failed_lists_and_replay_puts_back(cli: Cli) -> None:
    from smsc.store.records import OutboxItem, OutboxKind

    cli("account", "add", "acme", "--password", "s3cret", "--webhook-url",
        "https://shop.example/hook")
    store = cli.store()
    (item,) = store.add_outbox([OutboxItem(
        account="acme", kind=OutboxKind.RECEIPT, pdu=b"\x00", created_at=0.0,
        expires_at=10.0, message_id=255, hook_url="https://shop.example/hook", hook_style=1)])
    assert "no failed webhooks" in cli("webhook", "failed")
    store.fail_webhook(item.id, 4, "HTTP 503: busy", 10.0)
    (row,) = cli.json("webhook", "failed", "--account", "acme")
    assert row["id"] == item.id and row["event_id"] == f"evt-{item.id}"
    assert (row["attempts"], row["last_error"], row["type"], row["style"]) == (
        4, "HTTP 503: busy", "receipt", "json")
    assert row["message_id"] in ("000000ff", "255")
    assert "HTTP 503: busy" in cli("webhook", "failed")
    cli.fails("webhook", "replay", code=2, says="give the ids to replay, or --all")
    cli.fails("webhook", "replay", "999", says="not in the failed list: 999")
    assert "1 webhook(s) back in the outbox" in cli("webhook", "replay", str(item.id))
    assert cli.json("webhook", "failed") == []
    assert cli.store().outbox_count("acme") == 1

"""``smsc account``: logins, sub-accounts, every setting, passwords and locks."""

from __future__ import annotations

import secrets
import time

import pytest

from smsc.core.accounts import TEST_PASSWORD_META, ensure_test_account
from smsc.routing.accounts import verify_password
from smsc.store.records import Account, BindType, BlacklistMode, LockKind, LockScope
from tests.cli.conftest import Cli


def test_add_and_show(cli: Cli) -> None:
    out = cli("account", "add", "acme", "--password", "s3cret", "--credit", "100")
    assert "account acme created (100.00 EUR credit)" in out
    info = cli.json("account", "show", "acme")
    assert info["balance"]["available"] == 10_000
    assert info["currency"] == "EUR" and info["parent"] is None and info["enabled"]
    account = cli.store().get_account("acme")
    assert account is not None and verify_password("s3cret", account.password_hash)
    assert "s3cret" not in account.password_hash
    text = cli("account", "show", "acme")
    assert "100.00 EUR" in text and "at most 10" in text


def test_a_generated_password_is_letters_and_digits_whatever_the_random_bytes(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random bytes that a URL-safe token would start with "-" (read as an option when pasted
    on a command line): the one password generator never uses them that way."""
    monkeypatch.setattr(secrets, "token_bytes", lambda n=32: b"\xfb\xff" * n)
    out = cli("account", "add", "dash", "--credit", "0")
    password = out.split("password: ")[1].split()[0]
    out = cli("account", "passwd", "dash", "--generate")
    again = out.rsplit(": ", 1)[1].strip()
    for generated in (password, again):
        assert len(generated) == 8 and generated.isascii() and generated.isalnum(), generated
    account = cli.store().get_account("dash")
    assert account is not None and verify_password(again, account.password_hash)


def test_add_with_settings_and_a_generated_password(cli: Cli) -> None:
    out = cli(
        "account",
        "add",
        "shop",
        "--throughput",
        "5",
        "--max-parts",
        "8",
        "--sender-id",
        "SHOP",
        "--require-registered-sender",
        "--bind-types",
        "tx,rx",
    )
    password = out.split("password: ")[1].split()[0]
    account = cli.store().get_account("shop")
    assert account is not None
    assert verify_password(password, account.password_hash)
    assert (account.throughput, account.max_parts, account.sender_ids) == (5.0, 8, ("SHOP",))
    assert account.require_registered_sender
    assert account.bind_types == frozenset({BindType.TRANSMITTER, BindType.RECEIVER})


def test_sub_accounts_draw_on_the_parent(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p", "--credit", "10")
    cli("account", "add", "acme-eu", "--parent", "acme", "--password", "q")
    info = cli.json("account", "show", "acme-eu")
    assert info["parent"] == "acme" and info["balance"]["available"] == 1000
    assert cli.json("account", "show", "acme")["sub_accounts"] == ["acme-eu"]
    cli.fails(
        "account",
        "add",
        "x",
        "--parent",
        "acme-eu",
        "--password",
        "p",
        code=2,
        says="is itself a sub-account",
    )
    cli.fails("account", "add", "y", "--parent", "nobody", "--password", "p", says="no account")
    cli.fails(
        "account", "add", "z", "--parent", "acme", "--credit", "5", code=2, says="top up the parent"
    )
    cli.fails("account", "rm", "acme", "--yes", says="sub-accounts")


def test_bad_adds(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    cli.fails("account", "add", "acme", "--password", "p", says="exists already")
    cli.fails("account", "add", "a" * 16, "--password", "p", code=2, says="1 to 15")
    cli.fails("account", "add", "b", "--password", "123456789", code=2, says="1 to 8")
    cli.fails(
        "account",
        "add",
        "c",
        "--password",
        "p",
        "--credit",
        "1.001",
        code=2,
        says="fraction of a minor unit",
    )
    cli.fails("account", "add", "d", "--password", "p", "--credit", "-5", code=2)
    cli.fails("account", "add", "e", "--password", "p", "--currency", "EURO", code=2)
    cli.fails("account", "add", "f", "--password", "p", "--max-parts", "0", code=2)


def test_set_changes_every_setting(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    out = cli(
        "account",
        "set",
        "acme",
        "--max-binds",
        "4",
        "--allowed-ip",
        "10.0.0.0/8",
        "--allowed-ip",
        "192.0.2.7",
        "--bind-types",
        "trx",
        "--throughput",
        "50",
        "--burst",
        "80",
        "--sender-id",
        "ACME",
        "--sender-id",
        "380501112233",
        "--require-registered-sender",
        "--default-sender",
        "ACME",
        "--max-parts",
        "6",
        "--receipt-ttl",
        "2h",
        "--receipt-per-message",
        "--hold-incomplete-sets",
        "10m",
        "--recipient-local-time",
        "--blacklist-mode",
        "refuse",
        "--refund-failed",
        "--outbind",
        "tcp:host=192.0.2.10:port=2776",
        "--outbind-password",
        "knock",
        "--disable",
    )
    assert out.startswith("account acme: changed ")
    found = cli.store().get_account("acme")
    assert found == Account(
        system_id="acme",
        password_hash=found.password_hash if found else "",
        currency="EUR",
        enabled=False,
        max_binds=4,
        allowed_ips=("10.0.0.0/8", "192.0.2.7/32"),
        bind_types=frozenset({BindType.TRANSCEIVER}),
        throughput=50.0,
        burst=80,
        sender_ids=("ACME", "380501112233"),
        require_registered_sender=True,
        default_sender="ACME",
        max_parts=6,
        receipt_ttl=7200.0,
        receipt_per_message=True,
        recipient_local_time=True,
        blacklist_mode=BlacklistMode.REFUSE,
        refund_failed=True,
        created_at=found.created_at if found else 0.0,
        webhook_secret=found.webhook_secret if found else "",  # made with the account
        outbind_to="tcp:host=192.0.2.10:port=2776",
        outbind_password="knock",
        hold_incomplete_sets=600.0,
    )
    assert "held up to 600 s" in cli("account", "show", "acme")
    cli(
        "account",
        "set",
        "acme",
        "--any-ip",
        "--no-sender-ids",
        "--enable",
        "--no-require-registered-sender",
        "--receipt-per-part",
        "--default-sender",
        "",
        "--no-outbind",
        "--hold-incomplete-sets",
        "0",
    )
    found = cli.store().get_account("acme")
    assert found is not None and found.hold_incomplete_sets == 0.0
    assert found is not None and found.allowed_ips == () and found.sender_ids == ()
    assert found.outbind_to == "" and found.outbind_password == "knock"
    assert found.enabled and not found.require_registered_sender and found.default_sender == ""
    assert "nothing to change" in cli("account", "set", "acme")


def test_bad_settings(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    cli.fails("account", "set", "acme", "--allowed-ip", "10.0.0.1/8", code=2, says="CIDR")
    cli.fails("account", "set", "acme", "--bind-types", "tx,bogus", code=2, says="tx, rx, trx")
    cli.fails("account", "set", "acme", "--sender-id", "way too long sender", code=2)
    cli.fails("account", "set", "acme", "--receipt-ttl", "soon", code=2, says="duration")
    cli.fails("account", "set", "acme", "--hold-incomplete-sets", "later", code=2,
              says="duration")
    cli.fails("account", "set", "acme", "--outbind", "192.0.2.10:2776", code=2,
              says="client endpoint")
    cli.fails("account", "set", "acme", "--outbind", "tcp:2776", code=2, says="host")
    cli.fails("account", "set", "acme", "--outbind-password", "far too long", code=2,
              says="1 to 8 characters")
    cli.fails("account", "set", "acme", "--outbind", "tcp:host=h:port=1", "--no-outbind",
              code=2, says="not both")
    cli.fails("account", "set", "acme", "--throughput", "-1", code=2)
    cli.fails("account", "set", "acme", "--blacklist-mode", "drop", code=2)
    cli.fails("account", "set", "acme", "--any-ip", "--allowed-ip", "10.0.0.0/8", code=2)
    cli.fails("account", "set", "nobody", "--max-binds", "2", says="no account 'nobody'")


def test_standard_statuses_setting(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p", "--standard-statuses")
    assert cli.json("account", "show", "acme")["standard_statuses"] is True
    assert "SMPP 3.4 only" in cli("account", "show", "acme")
    cli("account", "set", "acme", "--vendor-statuses")
    found = cli.store().get_account("acme")
    assert found is not None and not found.standard_statuses


def test_the_test_account_removed_comes_back_with_its_bonus_only(cli: Cli) -> None:
    def ensure() -> None:
        ensure_test_account(cli.store(), system_id="smsctest", password="", credit=500,
                            currency="EUR", throughput=0, now=1.0)

    ensure()
    cli("credit", "topup", "smsctest", "20")
    cli("account", "rm", "smsctest", "--yes", "--force")
    ensure()  # what the next start of the server does
    assert cli.json("account", "show", "smsctest")["balance"]["available"] == 500


def test_add_refuses_a_currency_that_is_not_iso_4217(cli: Cli) -> None:
    cli.fails("account", "add", "a", "--password", "p", "--currency", "EUX", code=2,
              says="not an ISO 4217 currency code")
    assert "account b created (0.00 JPY credit)" in cli(
        "account", "add", "b", "--password", "p", "--currency", "jpy")


def test_list_and_rm(cli: Cli) -> None:
    assert "no accounts" in cli("account", "list")
    cli("account", "add", "b", "--password", "p", "--credit", "3")
    cli("account", "add", "a", "--password", "p")
    rows = cli.json("account", "list")
    assert [r["system_id"] for r in rows] == ["a", "b"]
    assert rows[1]["available"] == 300
    cli.fails("account", "rm", "a", input="n\n", says="not removed")
    assert "account a removed" in cli("account", "rm", "a", input="y\n")
    cli.fails("account", "rm", "b", "--yes", says=["3.00 EUR credit left", "--force"])
    cli("account", "rm", "b", "--yes", "--force")
    assert cli.json("account", "list") == []
    cli.fails("account", "rm", "b", "--yes", says="no account")


def test_rm_settles_the_credit_and_a_new_account_of_that_name_starts_at_zero(cli: Cli) -> None:
    cli("account", "add", "shop", "--password", "p", "--credit", "25")
    cli("account", "rm", "shop", "--yes", "--force")
    settled = cli.store().ledger("shop")[-1]
    assert (settled.amount, settled.balance_after, settled.note) == (-2500, 0, "account removed")
    cli("account", "add", "shop", "--password", "p")
    assert cli.json("account", "show", "shop")["balance"]["available"] == 0


def test_passwd(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "old")
    cli("account", "passwd", "acme", "--password", "new1")
    found = cli.store().get_account("acme")
    assert found is not None and verify_password("new1", found.password_hash)
    cli("account", "passwd", "acme", input="new2\nnew2\n")
    found = cli.store().get_account("acme")
    assert found is not None and verify_password("new2", found.password_hash)
    out = cli("account", "passwd", "acme", "--generate")
    generated = out.rsplit(": ", 1)[1].strip()
    found = cli.store().get_account("acme")
    assert found is not None and verify_password(generated, found.password_hash)
    cli.fails("account", "passwd", "acme", "--password", "toolongpw", code=2)
    cli.fails("account", "passwd", "acme", "--password", "x", "--generate", code=2)


def test_the_test_account_password_is_kept_only_as_a_hash(cli: Cli) -> None:
    store = cli.store()
    store.set_meta(f"{TEST_PASSWORD_META}:smsctest", "")
    _, printed = ensure_test_account(
        store,
        system_id="smsctest",
        password="first",
        credit=0,
        currency="EUR",
        throughput=0,
        now=0.0,
    )
    assert printed == "first"
    assert not store.get_meta(f"{TEST_PASSWORD_META}:smsctest")
    assert "first" not in cli("account", "show", "smsctest")
    assert "password" not in cli.json("account", "show", "smsctest")
    assert "`smsc account passwd smsctest` prints a new one" in cli("account", "show", "smsctest")
    # Without --password the test account gets a new random password, printed.
    out = cli("account", "passwd", "smsctest")
    new = out.rsplit(": ", 1)[1].strip()
    found = store.get_account("smsctest")
    assert found is not None and len(new) == 8 and verify_password(new, found.password_hash)
    assert not verify_password("first", found.password_hash)
    assert not store.get_meta(f"{TEST_PASSWORD_META}:smsctest")


def test_a_password_kept_in_clear_by_an_earlier_version_is_wiped(cli: Cli) -> None:
    store = cli.store()
    ensure_test_account(store, system_id="smsctest", password="first", credit=0,
                        currency="EUR", throughput=0, now=0.0)
    store.set_meta(f"{TEST_PASSWORD_META}:smsctest", "first")  # as earlier versions did
    _, printed = ensure_test_account(store, system_id="smsctest", password="", credit=0,
                                     currency="EUR", throughput=0, now=0.0)
    assert printed is None
    assert not store.get_meta(f"{TEST_PASSWORD_META}:smsctest")


def test_lock_and_unlock_by_hand(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    assert "nothing is locked" in cli("account", "locks")
    cli("account", "lock", "acme", "--for", "3h")
    info = cli.json("account", "show", "acme")
    assert info["locked"] and info["locked_until"]
    assert [(r["kind"], r["system_id"]) for r in cli.json("account", "locks")] == [
        ("account", "acme")]
    assert "unlocked account acme" in cli("account", "unlock", "acme")
    assert not cli.json("account", "show", "acme")["locked"]
    cli("account", "lock", "acme")
    assert "until unlocked" in cli("account", "lock", "acme")
    cli.fails("account", "unlock", code=2, says="give an account")
    cli.fails("account", "lock", "acme", "--for", "0s", code=2)


def test_strict_numbers_is_set_and_shown(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    assert cli.json("account", "show", "acme")["strict_numbers"] is False
    assert "unassigned ranges accepted, end UNDELIV err 1" in cli("account", "show", "acme")
    cli("account", "set", "acme", "--strict-numbers")
    found = cli.store().get_account("acme")
    assert found is not None and found.strict_numbers
    assert cli.json("account", "show", "acme")["strict_numbers"] is True
    assert "valid numbers only" in cli("account", "show", "acme")
    cli("account", "set", "acme", "--no-strict-numbers")
    found = cli.store().get_account("acme")
    assert found is not None and not found.strict_numbers


def test_every_kind_of_lock_is_listed_and_lifted(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    cli("account", "add", "beta", "--password", "p")
    store = cli.store()
    now = time.time()
    for address in ("127.0.0.2", "127.0.0.3", "2001:db8::7"):
        store.bind_failed(LockKind.PAIR, "acme", address, now, 1, 3600.0)
    store.bind_failed(LockKind.PAIR, "beta", "127.0.0.2", now, 3, 3600.0)  # a count, no lock
    store.bind_failed(LockKind.ADDRESS, "", "127.0.0.2", now, 1, 3600.0)
    store.bind_failed(LockKind.ADDRESS, "", "10.1.2.3", now, 1, 3600.0)
    store.set_lock("beta", now + 3600)
    rows = cli.json("account", "locks")
    assert [(r["kind"], r["system_id"], r["address"], bool(r["locked_until"])) for r in rows] == [
        ("account", "beta", "", True),
        ("address", "", "10.1.2.3", True),
        ("address", "", "127.0.0.2", True),
        ("pair", "acme", "127.0.0.2", True),
        ("pair", "acme", "127.0.0.3", True),
        ("pair", "acme", "2001:db8::7", True),
        ("pair", "beta", "127.0.0.2", False),
    ]
    assert rows[3]["unlock"] == "smsc account unlock acme --address 127.0.0.2"
    table = cli("account", "locks")
    assert "smsc account unlock --address 10.1.2.3" in table
    assert "smsc account unlock beta" in table
    shown = cli.json("account", "show", "acme")["locked_from"]
    assert [p["address"] for p in shown] == ["127.0.0.2", "127.0.0.3", "2001:db8::7"]
    assert "locked from 127.0.0.2 until" in cli("account", "show", "acme")

    # One pair, by address; then by a block; then the rest of the account's.
    assert "unlocked account acme from 127.0.0.2" in cli(
        "account", "unlock", "acme", "--address", "127.0.0.2")
    assert "unlocked account acme from 2001:db8::7" in cli(
        "account", "unlock", "acme", "--address", "2001:db8::/64")
    assert "unlocked account acme from 127.0.0.3" in cli("account", "unlock", "acme")
    assert "nothing locked for acme" in cli("account", "unlock", "acme")
    # An address's lock, by a block: the pair of beta from it stays (and beta's own lock).
    out = cli("account", "unlock", "--address", "127.0.0.0/8")
    assert "unlocked address 127.0.0.2" in out and "10.1.2.3" not in out
    assert "unlocked address 10.1.2.3" in cli("account", "unlock", "--address", "10.1.2.3")
    assert [(r["kind"], r["system_id"]) for r in cli.json("account", "locks")] == [
        ("account", "beta"), ("pair", "beta")]
    assert "unlocked account beta" in cli("account", "unlock", "beta")
    assert cli.json("account", "locks") == []


@pytest.mark.parametrize("bad", ["300.1.1.1", "10.0.0.1/8", "example.com", "1.2.3", "::g"])
def test_unlock_checks_the_address(cli: Cli, bad: str) -> None:
    cli("account", "add", "acme", "--password", "p")
    cli.fails("account", "unlock", "--address", bad, code=2, says="not an IPv4 or IPv6")
    cli.fails("account", "unlock", "acme", "--address", bad, code=2, says="--address")


def test_lock_settings_per_account(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p", "--lock-after", "5")
    info = cli.json("account", "show", "acme")
    assert (info["lock_after"], info["lock_scope"]) == (5, "pair")
    cli("account", "set", "acme", "--lock-scope", "account", "--lock-after", "0")
    info = cli.json("account", "show", "acme")
    assert (info["lock_after"], info["lock_scope"]) == (0, "account")
    assert "never locked by wrong passwords" in cli("account", "show", "acme")
    cli("account", "set", "acme", "--lock-after", "default", "--lock-scope", "account")
    assert "from any address" in cli("account", "show", "acme")
    found = cli.store().get_account("acme")
    assert found is not None and found.lock_after is None
    assert found.lock_scope == LockScope.ACCOUNT
    cli.fails("account", "set", "acme", "--lock-after", "-1", code=2, says="--lock-after")
    cli.fails("account", "set", "acme", "--lock-after", "x", code=2, says="--lock-after")
    cli.fails("account", "set", "acme", "--lock-scope", "world", code=2)

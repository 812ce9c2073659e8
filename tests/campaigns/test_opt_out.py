"""Opt-out by MO: the keyword decision (smsc.core.optout), the [opt_out] settings, and STOP /
START through ``smsc mo inject`` on a real database (list changed, confirmation committed at
price 0, the MO itself still queued for the customer)."""

from __future__ import annotations

import pytest

from smsc.config.opt_out import OptOutSettings, opt_out_from_mapping
from smsc.config_error import ConfigError
from smsc.core.optout import OptOutAction, OptOuts, OptOutWords
from smsc.store.memory import MemoryStore
from smsc.store.records import MessageFilter, OutboxKind
from tests.cli.conftest import Cli

NOW = 1_750_000_000.0
STOP, START = OptOutAction.STOP, OptOutAction.START


@pytest.mark.parametrize(("text", "action"), [
    ("STOP", STOP), ("stop", STOP), ("  Stop!  ", STOP), ("unsubscribe.", STOP),
    ("START", START), ("unstop", START),
    ("please stop", None), ("STOP 2", None), ("stopp", None), ("", None), ("start now", None),
])
def test_the_whole_text_is_the_keyword(text: str, action: OptOutAction | None) -> None:
    assert OptOutWords().action(text) == action


def test_configured_words_replace_the_defaults() -> None:
    words = OptOutWords(OptOutSettings(stop_words=("STOPP", "HALT"), start_words=("GO",)))
    assert (words.action("halt"), words.action("go"), words.action("stop")) == (STOP, START, None)


def test_the_opt_out_table_is_checked() -> None:
    settings = opt_out_from_mapping({"stop_words": ["Halt"], "stop_reply": ""})
    assert settings.stop_words == ("Halt",) and settings.stop_reply == ""
    cases: list[tuple[dict[str, object], str]] = [
        ({"stop_words": "STOP"}, "list"), ({"stop_words": ["two words"]}, "one"),
        ({"start_words": ["STOP"]}, "also a stop word"),
        ({"stop_reply": 3}, "text"), ({"stopwords": []}, "not a setting")]
    for bad, says in cases:
        with pytest.raises(ConfigError, match=says):
            opt_out_from_mapping(bad)


def test_stop_then_start_change_the_list_and_each_is_confirmed() -> None:
    store = MemoryStore()
    opt = OptOuts(store)
    change = opt.received(account="acme", handset="380671234567", service="4242", text="STOP",
                          now=NOW)
    assert change is not None and change.action == STOP and change.changed
    assert store.opted_out("acme", ["380671234567"]) == {"380671234567"}
    confirmation = change.confirmation
    assert confirmation is not None
    assert (confirmation.source_addr, confirmation.destination_addr) == ("4242", "380671234567")
    assert confirmation.registered_delivery == 0 and b"START" in confirmation.short_message
    again = opt.received(account="acme", handset="380671234567", service="4242", text="stop",
                         now=NOW + 1)
    assert again is not None and not again.changed and again.confirmation is None
    back = opt.received(account="acme", handset="380671234567", service="4242", text="Start",
                        now=NOW + 2)
    assert back is not None and back.action == START and back.changed
    assert store.opted_out("acme", ["380671234567"]) == set()
    assert opt.received(account="acme", handset="380671234567", service="4242", text="hello",
                        now=NOW) is None


def test_no_confirmation_to_an_alphanumeric_address_or_when_switched_off() -> None:
    store = MemoryStore()
    change = OptOuts(store).received(account="acme", handset="380671234567", service="Shop",
                                     text="STOP", now=NOW)
    assert change is not None and change.changed and change.confirmation is None
    quiet = OptOuts(store, OptOutSettings(stop_reply=""))
    change = quiet.received(account="beta", handset="380671234567", service="4242", text="STOP",
                            now=NOW)
    assert change is not None and change.confirmation is None


def test_stop_and_start_by_mo_inject(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "pw")
    out = cli("mo", "inject", "--account", "acme", "--from", "380671234567", "--to", "4242",
              "STOP")
    assert "put on the opt-out list of acme" in out and "confirmation" in out
    store = cli.store()
    assert store.opted_out("acme", ["380671234567"]) == {"380671234567"}
    assert store.outbox_count("acme") == 1  # the MO itself still goes to the customer
    assert [i.kind for i in store.outbox_for("acme", 0, 10, NOW)] == [OutboxKind.MO]
    (sent,) = list(store.messages(MessageFilter(account="acme")))
    assert (sent.source_addr, sent.destination_addr, sent.price, sent.registered_delivery) == \
        ("4242", "380671234567", 0, 0)
    assert "380671234567" in cli("optout", "list", "--account", "acme")
    out = cli("mo", "inject", "--account", "acme", "--from", "380671234567", "--to", "4242",
              "start")
    assert "taken off" in out
    assert cli.store().opted_out("acme", ["380671234567"]) == set()
    out = cli("mo", "inject", "--account", "acme", "--from", "380671234567", "--to", "4242",
              "hello")
    assert "opt-out" not in out


def test_config_check_reads_the_opt_out_table(cli: Cli) -> None:
    assert "[opt_out]" in cli.config.read_text()
    cli("config", "check")
    text = cli.config.read_text().replace('start_words = ["START", "UNSTOP"]',
                                          'start_words = ["START", "STOP"]')
    cli.config.write_text(text)
    out = cli.fails("config", "check", says="opt_out.start_words")
    assert "also a stop word" in out

"""The connection timers through the running service: enquire_link towards a quiet customer and
the inactivity timeout that unbinds and closes."""

from __future__ import annotations

from smsc.pdu import pdus
from smsc.store.base import Store
from tests.server.harness import Rig, make_config


def test_enquire_link_goes_to_a_quiet_customer(rig: Rig) -> None:
    interval = rig.config.server.enquire_link_interval
    esme = rig.bound()
    rig.advance(interval - 0.5)
    assert esme.read() == []
    rig.advance(1.0)
    (probe,) = esme.read()
    assert type(probe) is pdus.EnquireLink
    esme.answer(probe)
    # Answered: the next probe comes one interval after that answer, not before.
    rig.advance(interval - 0.5)
    assert esme.read() == []
    rig.advance(1.0)
    assert [type(p) for p in esme.read()] == [pdus.EnquireLink]
    assert not esme.closing()


def test_traffic_from_the_customer_postpones_the_enquire_link(rig: Rig) -> None:
    interval = rig.config.server.enquire_link_interval
    esme = rig.bound()
    rig.advance(interval / 2)
    esme.send(pdus.EnquireLink())
    assert [type(p) for p in esme.read()] == [pdus.EnquireLinkResp]
    rig.advance(interval - 1.0)
    assert esme.read() == []
    rig.advance(1.5)
    assert [type(p) for p in esme.read()] == [pdus.EnquireLink]


def test_inactivity_timeout_unbinds_and_closes(store: Store) -> None:
    rig = Rig(store, make_config({"inactivity_timeout": "60s", "enquire_link_interval": "20s"}))
    esme = rig.bound()
    rig.advance(59.0)
    # Probes went out and were not answered; the connection is still up.
    assert {type(p) for p in esme.read()} == {pdus.EnquireLink}
    assert not esme.closing()
    rig.advance(1.5)
    assert pdus.Unbind in [type(p) for p in esme.read()]
    # No answer to the unbind either: closed a little later all the same.
    rig.advance(2.5)
    assert esme.closing()
    assert esme.gone()
    assert not rig.service.connections


def test_inactive_customer_that_answers_the_unbind_is_closed_at_once(store: Store) -> None:
    rig = Rig(store, make_config({"inactivity_timeout": "60s", "enquire_link_interval": "10m"}))
    esme = rig.bound()
    rig.advance(60.5)
    (unbind,) = esme.read()
    assert type(unbind) is pdus.Unbind
    esme.answer(unbind)
    rig.turn()
    assert esme.closing()


def test_an_answering_customer_is_not_timed_out(store: Store) -> None:
    rig = Rig(store, make_config({"inactivity_timeout": "60s", "enquire_link_interval": "20s"}))
    esme = rig.bound()
    for _ in range(10):
        rig.advance(20.5)
        for probe in esme.read():
            assert type(probe) is pdus.EnquireLink
            esme.answer(probe)
    assert not esme.closing()

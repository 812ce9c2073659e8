"""Metrics: the Prometheus text the server serves at /metrics, and the figures in it."""

from __future__ import annotations

from twisted.web.server import Site
from twisted.web.test.requesthelper import DummyRequest

from smsc.pdu import pdus
from smsc.server.metrics import CONTENT_TYPE, Metric, MetricsPage, exposition
from smsc.store.base import Store
from tests.server.harness import Rig, make_config, submit_sm

METRICS = "tcp:9465:interface=127.0.0.1"


def test_exposition_format() -> None:
    text = exposition([
        Metric("smsc_things_total", "counter", "Things.", [((), 3)]),
        Metric("smsc_level", "gauge", "A level\nof things.",
               [((("account", 'a"b\\c'), ("type", "trx")), 1.5), ((("account", "x"),), 2)]),
        Metric("smsc_empty", "gauge", "Nothing yet.", []),
    ])
    assert text == (
        "# HELP smsc_things_total Things.\n"
        "# TYPE smsc_things_total counter\n"
        "smsc_things_total 3\n"
        "# HELP smsc_level A level of things.\n"
        "# TYPE smsc_level gauge\n"
        'smsc_level{account="a\\"b\\\\c",type="trx"} 1.5\n'
        'smsc_level{account="x"} 2\n'
        "# HELP smsc_empty Nothing yet.\n"
        "# TYPE smsc_empty gauge\n"
    )


def scrape(rig: Rig) -> dict[str, float]:
    """GET /metrics from the site the service listens with: every sample by its line key."""
    (site,) = [f for port, f, _, _ in rig.clock.tcpServers if port == 9465]
    assert isinstance(site, Site)
    request = DummyRequest([b"metrics"])
    request.path = b"/metrics"  # type: ignore[attr-defined]
    body = site.resource.render_GET(request)
    assert request.responseHeaders.getRawHeaders(b"content-type") == [CONTENT_TYPE]
    samples = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def test_the_page_counts_binds_submits_refusals_and_receipts(store: Store) -> None:
    rig = Rig(store, make_config({"metrics": METRICS}))
    # (the memory reactor's ports report 0.0.0.0 as their host)
    assert any(line.startswith("metrics on http://") and line.endswith(":9465/metrics")
               for line in rig.announced)
    before = scrape(rig)
    assert before["smsc_submits_total"] == 0 and before["smsc_connections"] == 0
    esme = rig.bound()
    esme.submit_and_commit()
    esme.send(submit_sm("12345"))  # not an international number
    rig.advance(0.1)
    wrong = rig.connect()
    assert wrong.bind(pdus.BindTransmitter, "acme", "nope").command_status != 0
    rig.advance(6.0)  # the operator delivers; the receipt goes out
    after = scrape(rig)
    assert after["smsc_submits_total"] == 1
    assert after['smsc_submits_refused_total{status="ESME_RINVDSTADR"}'] == 1
    assert after['smsc_binds_refused_total{status="ESME_RINVPASWD"}'] == 1
    assert after['smsc_binds_pending{state="checked"}'] == 0
    assert after['smsc_binds_pending{state="waiting"}'] == 0
    assert after["smsc_binds_refused_for_limits_total"] == 0
    assert after['smsc_binds{account="acme",type="trx"}'] == 1
    assert after["smsc_binds_total"] == 1
    assert after["smsc_connections"] == 2
    assert after["smsc_committed_parts_total"] == 1
    assert after['smsc_parts_final_total{operator="op"}'] == 1
    assert after["smsc_outbox_sent_total"] == 1
    assert after["smsc_outbox_in_flight"] == 1  # not answered yet
    assert after["smsc_uptime_seconds"] > before["smsc_uptime_seconds"]


def test_other_paths_are_not_found(store: Store) -> None:
    rig = Rig(store, make_config({"metrics": METRICS}))
    (site,) = [f for port, f, _, _ in rig.clock.tcpServers if port == 9465]
    assert isinstance(site, Site)
    request = DummyRequest([b"other"])
    request.path = b"/other"  # type: ignore[attr-defined]
    site.resource.render_GET(request)
    assert request.responseCode == 404


def test_no_metrics_listener_unless_asked(rig: Rig) -> None:
    assert [port for port, *_ in rig.clock.tcpServers] == [2775]
    assert not any("metrics" in line for line in rig.announced)


def test_page_resource_is_a_leaf() -> None:
    assert MetricsPage(list).isLeaf

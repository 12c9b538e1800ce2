"""Scraped families find their declarations, counters included."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from services.common import metric_catalog

EXPOSITION = """\
# HELP onedoor_decisions_total Decisions recorded by a department.
# TYPE onedoor_decisions_total counter
onedoor_decisions_total{department="assistance",outcome="approved"} 1.0
# HELP onedoor_cases_open Department cases not yet decided.
# TYPE onedoor_cases_open gauge
onedoor_cases_open{department="assistance"} 3.0
"""


def test_a_counters_family_is_declared_under_its_name_without_total():
    families = {f.name: f for f in text_string_to_metric_families(EXPOSITION)}
    assert set(families) == {"onedoor_decisions", "onedoor_cases_open"}
    assert metric_catalog.declared("onedoor_decisions") is metric_catalog.DECISIONS
    assert metric_catalog.declared("onedoor_cases_open") is metric_catalog.CASES_OPEN
    assert metric_catalog.declared("onedoor_cases") is None

"""Reading a process's /metrics in tests: every sample, parsed by prometheus_client's own
text parser, so a malformed exposition fails the test."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

# (series name, sorted labels) -> value
Samples = Mapping[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def text_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers.get_content_type() == "text/plain"
        return str(response.read().decode())


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return parse(text_of(url))


def value(samples: Samples, name: str, **labels: str | int) -> float:
    """The sum over every series of ``name`` whose labels include ``labels`` (0 when none):
    a test's deltas need not name labels it does not care about."""
    wanted = {k: str(v) for k, v in labels.items()}
    return sum(
        v
        for (series, series_labels), v in samples.items()
        if series == name and wanted.items() <= dict(series_labels).items()
    )

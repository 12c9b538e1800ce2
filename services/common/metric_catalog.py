"""Every metric onedoor itself defines, declared once: its OpenTelemetry name, kind, unit and
the only labels it may carry.

Code creates its instruments from these declarations (:func:`counter`, :func:`histogram`,
:func:`gauge`), the deployment's alert rules and dashboard are checked against the
Prometheus names they expand to (:func:`prometheus_names`), and the privacy test holds every
scraped series to the declared labels. No label may carry personal data, a receipt, an
event id or anything else unbounded: labels are matters, departments, services, peers,
outcomes and causes, all from closed sets.

The metrics the instrumentation libraries and services.common.rpc_metrics define (``rpc.*``
for gRPC, ``http.server.*`` for the gateway's HTTP API) follow OpenTelemetry's semantic
conventions and are declared in :data:`CONVENTIONAL`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

METER = "onedoor"


class Kind(enum.Enum):
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    # An observable gauge: its value is read by a callback when the metrics are collected.
    GAUGE = "gauge"
    # An up-down counter: a value the process keeps and moves both ways.
    UP_DOWN = "up_down"


# Prometheus' unit suffixes as opentelemetry-exporter-prometheus appends them.
_UNIT_SUFFIX = {"s": "seconds", "By": "bytes", "1": "ratio", "": ""}

# Buckets for latencies a person waits for (accepting, looking up, deciding) and for the
# pipeline's seconds-to-minutes delays (receipt to routed, outbox to broker).
REQUEST_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PIPELINE_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    description: str
    unit: str = ""
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    @property
    def prometheus(self) -> str:
        """The family name the Prometheus exporter gives it (without _bucket, _sum, _count)."""
        base = self.name.replace(".", "_")
        suffix = _UNIT_SUFFIX.get(self.unit, "")
        if suffix and not base.endswith(suffix):
            base = f"{base}_{suffix}"
        if self.kind is Kind.COUNTER:
            base = f"{base}_total"
        return base

    @property
    def series(self) -> tuple[str, ...]:
        """Every series name it is scraped as."""
        if self.kind is Kind.HISTOGRAM:
            return tuple(f"{self.prometheus}{s}" for s in ("_bucket", "_sum", "_count"))
        return (self.prometheus,)

    @property
    def prometheus_labels(self) -> tuple[str, ...]:
        return tuple(label.replace(".", "_") for label in self.labels)


# --- the window: applications and decisions (gateway, departments) --------------------------

APPLICATIONS_ACCEPTED = Metric(
    "onedoor.applications.accepted",
    Kind.COUNTER,
    "Applications given a receipt at this bureau's window, by matter code.",
    labels=("matter",),
)
APPLICATIONS_REFUSED = Metric(
    "onedoor.applications.refused",
    Kind.COUNTER,
    "Applications refused at the window, by matter code and the refusal's reason (the error "
    "reason of the response, e.g. INVALID_FIELD, DUPLICATE_APPLICATION).",
    labels=("matter", "reason"),
)
DECISIONS = Metric(
    "onedoor.decisions",
    Kind.COUNTER,
    "Decisions recorded by a department, by department and outcome (approved, rejected, "
    "registered, ...: the events.v1 Outcome's name in lower case).",
    labels=("department", "outcome"),
)
CASES_OPEN = Metric(
    "onedoor.cases.open",
    Kind.GAUGE,
    "Department cases not yet decided, read from the ledger.",
    labels=("department",),
)
CASES_OVERDUE = Metric(
    "onedoor.cases.overdue",
    Kind.GAUGE,
    "Open department cases past their legal time limit's last day (the bureau's local date).",
    labels=("department",),
)
CASES_DUE_SOON = Metric(
    "onedoor.cases.due_soon",
    Kind.GAUGE,
    "Open department cases whose last day is within the next three days, not yet overdue.",
    labels=("department",),
)

# --- the outbox and its relay ------------------------------------------------------------------

OUTBOX_WAITING = Metric(
    "onedoor.outbox.waiting",
    Kind.GAUGE,
    "Events in a service's outbox not yet published, read by the owning service.",
    labels=("service",),
)
OUTBOX_OLDEST_AGE = Metric(
    "onedoor.outbox.oldest_age",
    Kind.GAUGE,
    "Age of the oldest unpublished event in a service's outbox (0 when none waits).",
    unit="s",
    labels=("service",),
)
RELAY_PUBLISH_DURATION = Metric(
    "onedoor.relay.publish.duration",
    Kind.HISTOGRAM,
    "Time to publish one claimed outbox event to the broker and have it confirmed.",
    unit="s",
    labels=("service",),
    buckets=REQUEST_SECONDS,
)
RELAY_PUBLISH_FAILURES = Metric(
    "onedoor.relay.publish.failures",
    Kind.COUNTER,
    "Outbox events the relay could not publish (left in the outbox for the next round).",
    labels=("service",),
)

# --- the router -----------------------------------------------------------------------------

ROUTER_EVENTS = Metric(
    "onedoor.router.events",
    Kind.COUNTER,
    "Events the router consumed, by event type (the events.v1 message's name).",
    labels=("event",),
)
ROUTER_HANDLER_DURATION = Metric(
    "onedoor.router.handler.duration",
    Kind.HISTOGRAM,
    "Time the router spent handling one event, by event type and result (done, requeued, "
    "dead_end).",
    unit="s",
    labels=("event", "result"),
    buckets=REQUEST_SECONDS,
)
ROUTER_REQUEUES = Metric(
    "onedoor.router.requeues",
    Kind.COUNTER,
    "Events put back on their queue after transient trouble, by event type and cause (the gRPC "
    "status name, or the OS error's class).",
    labels=("event", "cause"),
)
ROUTER_DEAD_ENDS = Metric(
    "onedoor.router.dead_ends",
    Kind.COUNTER,
    "Events dropped because they can never succeed, by event type and cause.",
    labels=("event", "cause"),
)
ROUTER_ROUTED_LATENCY = Metric(
    "onedoor.router.routed.latency",
    Kind.HISTOGRAM,
    "From the receipt's acceptance to the case opened at every deciding department.",
    unit="s",
    labels=("matter",),
    buckets=PIPELINE_SECONDS,
)

# --- federation -------------------------------------------------------------------------------

FORWARDS_WAITING = Metric(
    "onedoor.federation.forwards.waiting",
    Kind.GAUGE,
    "Cases forwarded to a peer bureau and not yet delivered there, by peer.",
    labels=("peer",),
)
FORWARDS_OLDEST_AGE = Metric(
    "onedoor.federation.forwards.oldest_age",
    Kind.GAUGE,
    "Age of the oldest forward not yet delivered to a peer (0 when none waits), by peer.",
    unit="s",
    labels=("peer",),
)
FORWARD_ATTEMPTS = Metric(
    "onedoor.federation.forward.attempts",
    Kind.COUNTER,
    "Attempts to deliver a forwarded case to a peer, by peer and result (delivered, failed).",
    labels=("peer", "result"),
)
FORWARD_REFUSALS = Metric(
    "onedoor.federation.forward.refusals",
    Kind.COUNTER,
    "Failed deliveries by peer and cause: tls_refused (the peer or we refused the other's "
    "certificate), peer_down (no connection, timed out), refused_by_peer (the peer answered "
    "with an error).",
    labels=("peer", "cause"),
)
CERTIFICATE_NOT_AFTER = Metric(
    "onedoor.tls.certificate.not_after",
    Kind.GAUGE,
    "When this gateway's own federation certificate expires, in seconds since the epoch.",
    unit="s",
    labels=("peer",),
)

# --- the audit log ---------------------------------------------------------------------------

AUDIT_APPEND_DURATION = Metric(
    "onedoor.audit.append.duration",
    Kind.HISTOGRAM,
    "Time to append one batch of entries to the hash-chained audit log.",
    unit="s",
    buckets=REQUEST_SECONDS,
)
AUDIT_APPEND_BATCH_SIZE = Metric(
    "onedoor.audit.append.batch_size",
    Kind.HISTOGRAM,
    "Entries appended to the audit log in one batch.",
    buckets=BATCH_SIZES,
)

# --- other agencies' records (ingest) ----------------------------------------------------------

INGEST_RECORDS = Metric(
    "onedoor.ingest.records",
    Kind.COUNTER,
    "Records pushed by other agencies, by record kind (MEDICAL_EXPENSE, DEATH, "
    "DISABILITY_GRADE, UNEMPLOYMENT, or UNKNOWN for a line that names none) and outcome "
    "(accepted: kept for the first time; duplicate: pushed before, nothing changed; refused).",
    labels=("kind", "outcome"),
)
INGEST_REFUSALS = Metric(
    "onedoor.ingest.refusals",
    Kind.COUNTER,
    "Pushed records refused, by record kind and the refusal's reason (INVALID_FIELD, "
    "OUTSIDE_JURISDICTION, KIND_NOT_KEPT_BY_AGENCY, UNREADABLE_LINE).",
    labels=("kind", "reason"),
)
INGEST_BATCH_DURATION = Metric(
    "onedoor.ingest.batch.duration",
    Kind.HISTOGRAM,
    "Time from a batch's first record to its report, by transport (grpc, jsonl, csv).",
    unit="s",
    labels=("transport",),
    buckets=PIPELINE_SECONDS,
)

# --- the notifier and the public status page ---------------------------------------------------

NOTIFIER_MESSAGES = Metric(
    "onedoor.notifier.messages",
    Kind.COUNTER,
    "Text messages to applicants by event and what became of them: sent, retried (the "
    "provider's trouble, tried again after a back-off), failed (given up, recorded on the "
    "case's timeline) or opted_out (recorded, never sent).",
    labels=("event", "outcome"),
)
NOTIFIER_PROVIDER_ANSWERS = Metric(
    "onedoor.notifier.provider.answers",
    Kind.COUNTER,
    "The SMS provider's answers by cause (accepted, duplicate, rate_limited, provider_error, "
    "timeout, unreachable, refused, credentials_refused).",
    labels=("provider", "cause"),
)
STATUS_PAGE_VIEWS = Metric(
    "onedoor.status_page.views",
    Kind.COUNTER,
    "Views of the public status page behind a receipt's QR code, by result (shown, not_found, "
    "rate_limited).",
    labels=("result",),
)

ONEDOOR: tuple[Metric, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Metric))

# --- defined by the instrumentation (semantic conventions) -------------------------------------

RPC_SERVER_DURATION = Metric(
    "rpc.server.duration",
    Kind.HISTOGRAM,
    "gRPC calls this process served, by service, method and status code.",
    unit="s",
    labels=("rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code"),
    buckets=REQUEST_SECONDS,
)
RPC_CLIENT_DURATION = Metric(
    "rpc.client.duration",
    Kind.HISTOGRAM,
    "gRPC calls this process made, by service, method and status code.",
    unit="s",
    labels=("rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code"),
    buckets=REQUEST_SECONDS,
)
# opentelemetry-instrumentation-aiohttp-server, with the stable HTTP conventions.
HTTP_SERVER_DURATION = Metric(
    "http.server.request.duration",
    Kind.HISTOGRAM,
    "HTTP requests the gateway served, by method, route template and status code.",
    unit="s",
    labels=(
        "http.request.method",
        "http.route",
        "http.response.status_code",
        "error.type",
        "network.protocol.version",
        "url.scheme",
    ),
)
HTTP_SERVER_ACTIVE = Metric(
    "http.server.active_requests",
    Kind.UP_DOWN,
    "HTTP requests in flight at the gateway.",
    labels=("http.request.method", "url.scheme"),
)

CONVENTIONAL: tuple[Metric, ...] = (
    RPC_SERVER_DURATION,
    RPC_CLIENT_DURATION,
    HTTP_SERVER_DURATION,
    HTTP_SERVER_ACTIVE,
)
ALL: tuple[Metric, ...] = ONEDOOR + CONVENTIONAL


def prometheus_names() -> frozenset[str]:
    """Every series name onedoor's processes can be scraped for (besides the exporter's own
    ``target_info``)."""
    return frozenset(name for metric in ALL for name in metric.series)


def _families() -> dict[str, Metric]:
    names: dict[str, Metric] = {}
    for metric in ALL:
        for name in (metric.prometheus, *metric.series):
            names[name] = metric
        if metric.kind is Kind.COUNTER:
            # prometheus_client's text parser names a counter's family without its _total.
            names[metric.prometheus.removesuffix("_total")] = metric
    return names


_FAMILIES = _families()


def declared(prometheus_family: str) -> Metric | None:
    """The declaration a scraped family (or one of its series) belongs to, if any."""
    return _FAMILIES.get(prometheus_family)


# --- instruments -----------------------------------------------------------------------------


def _meter() -> metrics.Meter:
    # The API's proxy meter: instruments made before services.common.metrics installs the
    # process's provider start recording once it is installed.
    return metrics.get_meter(METER)


def _check(metric: Metric, kind: Kind) -> None:
    if metric.kind is not kind:
        raise TypeError(f"{metric.name} is declared a {metric.kind.value}, not a {kind.value}")


def counter(metric: Metric) -> metrics.Counter:
    _check(metric, Kind.COUNTER)
    return _meter().create_counter(metric.name, unit=metric.unit, description=metric.description)


def up_down(metric: Metric) -> metrics.UpDownCounter:
    _check(metric, Kind.UP_DOWN)
    return _meter().create_up_down_counter(
        metric.name, unit=metric.unit, description=metric.description
    )


def histogram(metric: Metric) -> metrics.Histogram:
    _check(metric, Kind.HISTOGRAM)
    return _meter().create_histogram(
        metric.name,
        unit=metric.unit,
        description=metric.description,
        explicit_bucket_boundaries_advisory=list(metric.buckets) or None,
    )


Reading = Iterable[tuple[float, dict[str, str]]]


def gauge(metric: Metric, read: Callable[[], Reading]) -> metrics.ObservableGauge:
    """An observable gauge whose values ``read()`` returns when metrics are collected: it runs
    on the collecting thread (a scrape, or the OTLP exporter's timer), so it must only read
    values the process keeps up to date, never query a database itself."""
    _check(metric, Kind.GAUGE)

    def observe(_options: CallbackOptions) -> Sequence[Observation]:
        return [Observation(value, labels) for value, labels in read()]

    return _meter().create_observable_gauge(
        metric.name, callbacks=[observe], unit=metric.unit, description=metric.description
    )

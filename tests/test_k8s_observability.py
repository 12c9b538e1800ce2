"""What the deployment gives the operators to watch onedoor with (deploy/k8s/observability and
the production overlays): the PodMonitors, the alert rules, the Grafana dashboard, the router's
autoscaler on its backlog and the collector's pipelines, rendered and checked offline.

Every PromQL query (the rules', the dashboard's, prometheus-adapter's) is parsed with
promql-parser, and every metric it selects must be one the code exports
(services/common/metric_catalog.py) or one of the few the cluster's own exporters give
(EXTERNAL); every label it matches or groups by must be one that metric may carry, or one the
scrape adds. Every ``job`` it selects must be one the PodMonitors produce. The rules also pass
``promtool check rules`` and the unit tests in alerts.test.yaml (``promtool test rules``).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from services.common import config, metric_catalog
from tests.test_k8s_manifests import (
    K8S,
    OVERLAYS,
    PRODUCTION,
    ROOT,
    Obj,
    Pod,
    _matches,
    admitted,
    deployed,
    named,
    of_kind,
    pods,
    rendered,
)

OBSERVABILITY = K8S / "observability"
DASHBOARD = OBSERVABILITY / "dashboards" / "onedoor.json"
ADAPTER = OBSERVABILITY / "prometheus-adapter.yaml"
README = ROOT / "README.md"
K8S_README = K8S / "README.md"

# Series the cluster's own exporters give, not onedoor's code: Prometheus' scrape health, and
# the RabbitMQ plugin's aggregated queue depth (per node; the router's queues are the only
# queues in onedoor's broker).
EXTERNAL: dict[str, tuple[str, ...]] = {
    "up": (),
    "rabbitmq_queue_messages_ready": (),
}
# Labels Prometheus adds to every series it scrapes through a PodMonitor.
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod"})
# kube-prometheus-stack's Prometheus, as the network policies must admit it.
PROMETHEUS = Pod("Prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"}, {})
SEVERITIES = ("critical", "warning", "info")


# ---------------------------------------------------------------------------------------------
# The queries, and what they select


@dataclass(frozen=True)
class Query:
    where: str
    expr: str


@dataclass(frozen=True)
class Selected:
    metric: str
    # (label, operator, value)
    matchers: tuple[tuple[str, str, str], ...]


def analyse(query: Query) -> tuple[list[Selected], set[str]]:
    """The series selectors of a query and the labels it groups or matches on."""
    try:
        expr = promql_parser.parse(query.expr)
    except ValueError as error:
        pytest.fail(f"{query.where}: not PromQL ({error}):\n{query.expr}")
    selected: list[Selected] = []
    grouping: set[str] = set()
    # MatchOp is not hashable
    ops = [
        (promql_parser.MatchOp.Equal, "="),
        (promql_parser.MatchOp.NotEqual, "!="),
        (promql_parser.MatchOp.Re, "=~"),
        (promql_parser.MatchOp.NotRe, "!~"),
    ]

    def op(matcher: Any) -> str:
        return next(text for value, text in ops if matcher.op == value)

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [(m.name, op(m), m.value) for m in node.matchers.matchers]
            for alternative in node.matchers.or_matchers:
                matchers += [(m.name, op(m), m.value) for m in alternative]
            name = node.name or next(
                (v for label, op, v in matchers if label == "__name__" and op == "="), None
            )
            assert name, f"{query.where}: a selector without a metric name:\n{query.expr}"
            selected.append(Selected(name, tuple(m for m in matchers if m[0] != "__name__")))
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            grouping.update(node.modifier.labels)
        elif (
            isinstance(node, promql_parser.BinaryExpr)
            and node.modifier is not None
            and node.modifier.matching is not None
        ):
            grouping.update(node.modifier.matching.labels)

    promql_parser.walk(expr, visit)
    return selected, grouping


def allowed_labels(metric: str) -> frozenset[str] | None:
    """The labels a series may carry, or None for a series nothing exports."""
    if metric in EXTERNAL:
        return TARGET_LABELS | set(EXTERNAL[metric])
    if metric not in metric_catalog.prometheus_names():
        return None
    declared = metric_catalog.declared(metric)
    assert declared is not None
    extra = {"le"} if metric.endswith("_bucket") else set()
    return TARGET_LABELS | set(declared.prometheus_labels) | extra


def rule_file(overlay: str) -> Obj:
    found = named(overlay, "PrometheusRule", "onedoor")
    assert found is not None, f"overlays/{overlay} has no PrometheusRule onedoor"
    return dict(found["spec"])


def alerts(overlay: str) -> list[Obj]:
    return [r for g in rule_file(overlay)["groups"] for r in g["rules"] if "alert" in r]


@functools.cache
def dashboard() -> Obj:
    return dict(json.loads(DASHBOARD.read_text(encoding="utf-8")))


def dashboard_panels() -> list[Obj]:
    found = []
    for panel in dashboard()["panels"]:
        found += [panel, *panel.get("panels", [])]
    return found


_GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def grafana_to_promql(expr: str) -> str:
    for variable, value in _GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    # Template variables ($namespace, ${namespace}) stand for one label value.
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "onedoor", expr)


def dashboard_queries() -> Iterator[Query]:
    for panel in dashboard_panels():
        for target in panel.get("targets", []):
            yield Query(
                f"dashboard panel {panel['title']!r} {target['refId']}",
                grafana_to_promql(target["expr"]),
            )
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = (
            variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        )
        values = re.fullmatch(r"label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)", query)
        assert values, f"dashboard variable {variable['name']}: {query} is not label_values(...)"
        expr, label = values.groups()
        # the label it lists must be one the series carries: group by it to have it checked
        yield Query(f"dashboard variable {variable['name']}", f"count by ({label}) ({expr})")


def adapter_rules() -> list[Obj]:
    values = yaml.safe_load(ADAPTER.read_text(encoding="utf-8"))
    return list(values["rules"]["external"])


def adapter_queries() -> Iterator[Query]:
    for rule in adapter_rules():
        name = rule["name"]["as"]
        yield Query(f"prometheus-adapter {name} seriesQuery", rule["seriesQuery"])
        series = promql_parser.parse(rule["seriesQuery"])
        assert isinstance(series, promql_parser.VectorSelector), rule["seriesQuery"]
        # What the adapter fills in for an autoscaler in namespace onedoor.
        metrics_query = (
            rule["metricsQuery"]
            .replace("<<.Series>>", str(series.name))
            .replace("<<.LabelMatchers>>", 'namespace="onedoor"')
            .replace("<<.GroupBy>>", "namespace")
        )
        yield Query(f"prometheus-adapter {name} metricsQuery", metrics_query)


def all_queries(overlay: str) -> Iterator[Query]:
    for group in rule_file(overlay)["groups"]:
        for rule in group["rules"]:
            yield Query(f"rule {rule.get('alert') or rule.get('record')}", str(rule["expr"]))
    yield from dashboard_queries()
    yield from adapter_queries()


# ---------------------------------------------------------------------------------------------
# Scraping: what the PodMonitors select and the job each target gets


def _relabel(rules: list[Obj], labels: dict[str, str]) -> dict[str, str]:
    """Prometheus' replace relabelling (the only action used here) over a target's labels."""
    labels = dict(labels)
    for rule in rules:
        action = rule.get("action", "replace").lower()
        assert action == "replace", f"relabelling {action} is not modelled here"
        value = rule.get("separator", ";").join(
            labels.get(s, "") for s in rule.get("sourceLabels", [])
        )
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if match:
            # Prometheus writes $1 or ${1} where Python's templates write \\1
            template = re.sub(r"\$\{?(\d+)\}?", r"\\\1", rule.get("replacement", "$1"))
            labels[rule["targetLabel"]] = match.expand(template)
    return labels


def _meta(pod: Pod) -> dict[str, str]:
    return {
        f"__meta_kubernetes_pod_label_{re.sub(r'[^A-Za-z0-9_]', '_', k)}": v
        for k, v in pod.labels.items()
    }


def targets(overlay: str) -> list[tuple[Obj, Pod, str, int]]:
    """(PodMonitor, pod, job, port) for every target the overlay's PodMonitors give Prometheus."""
    found = []
    for monitor in of_kind(overlay, "PodMonitor"):
        spec = monitor["spec"]
        assert "namespaceSelector" not in spec, "a PodMonitor watches its own namespace only"
        for pod in pods(overlay):
            if not _matches(spec["selector"], pod.labels):
                continue
            for endpoint in spec["podMetricsEndpoints"]:
                port = pod.port_named(endpoint["port"])
                if port is None:
                    continue
                default_job = f"{monitor['metadata']['namespace']}/{monitor['metadata']['name']}"
                labels = _relabel(
                    endpoint.get("relabelings", []), {**_meta(pod), "job": default_job}
                )
                found.append((monitor, pod, labels["job"], port))
    return found


def jobs(overlay: str) -> set[str]:
    return {job for _, _, job, _ in targets(overlay)}


# ---------------------------------------------------------------------------------------------
# The tests


def test_dev_needs_no_prometheus_operator() -> None:
    # kubectl apply stops at a kind the cluster does not know: dev must apply on a bare cluster.
    for overlay in set(OVERLAYS) - set(PRODUCTION):
        operator_kinds = [
            f"{o['kind']}/{o['metadata']['name']}"
            for o in rendered(overlay)
            if o["apiVersion"].startswith("monitoring.coreos.com/")
        ]
        assert not operator_kinds, (
            f"overlays/{overlay} needs the Prometheus Operator for {operator_kinds}"
        )


@pytest.mark.parametrize("overlay", PRODUCTION)
def test_every_metrics_port_is_scraped(overlay: str) -> None:
    scraped = {(pod.owner, port) for _, pod, _, port in targets(overlay)}
    problems = []
    for pod in pods(overlay):
        # onedoor's pods name it metrics; RabbitMQ's, prometheus (PostgreSQL's are the
        # CloudNativePG operator's business)
        name = (
            "metrics" if pod.labels.get("app.kubernetes.io/part-of") == "onedoor" else "prometheus"
        )
        port = pod.port_named(name)
        if port is not None and (pod.owner, port) not in scraped:
            problems.append(f"{pod.owner}: port {name} ({port}) is scraped by no PodMonitor")
    for d in deployed(overlay):
        if "metrics" not in d.facts.listens.values():
            problems.append(f"{d.name} serves no /metrics")
    for _, pod, job, port in targets(overlay):
        if why := admitted(overlay, PROMETHEUS, pod, port):
            problems.append(f"Prometheus scraping {pod.owner} ({job}): {why}")
    assert not problems, "\n".join(problems)
    # each process its own job, which the rules and the dashboard select on
    process_jobs = {
        job for _, pod, job, _ in targets(overlay) if pod.owner.startswith("Deployment/")
    }
    assert {f"onedoor-{d.name}" for d in deployed(overlay)} <= process_jobs, process_jobs


@pytest.mark.parametrize("overlay", PRODUCTION)
def test_queries_select_only_what_is_exported(overlay: str) -> None:
    known_jobs = jobs(overlay)
    problems = []
    for query in all_queries(overlay):
        selected, grouping = analyse(query)
        carried: set[str] = set()
        for s in selected:
            labels = allowed_labels(s.metric)
            if labels is None:
                problems.append(f"{query.where}: {s.metric} is exported by nothing")
                continue
            carried |= labels
            for label, op, value in s.matchers:
                if label not in labels:
                    problems.append(f"{query.where}: {s.metric} carries no label {label}")
                if (
                    label == "job"
                    and op in ("=", "=~")
                    and not any(re.fullmatch(value, job) for job in known_jobs)
                ):
                    problems.append(
                        f"{query.where}: job{op}{value!r} is no job the PodMonitors give "
                        f"({sorted(known_jobs)})"
                    )
        problems += [
            f"{query.where}: groups by {label}, which none of its series carries"
            for label in sorted(grouping - carried)
        ]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_a_misspelt_metric_and_label() -> None:
    # The analysis above, on queries it must refuse.
    selected, grouping = analyse(
        Query(
            "example",
            'sum by (departement) (onedoor_cases_overdue{matter="x"}) / ignoring (pod) up',
        )
    )
    assert [s.metric for s in selected] == ["onedoor_cases_overdue", "up"]
    assert grouping == {"departement", "pod"}
    labels = allowed_labels("onedoor_cases_overdue")
    assert labels is not None and "department" in labels and "matter" not in labels
    assert allowed_labels("onedoor_case_overdue") is None
    assert "le" in (allowed_labels("onedoor_router_routed_latency_seconds_bucket") or ())
    assert "le" not in (allowed_labels("onedoor_router_routed_latency_seconds_count") or ("le",))


@pytest.mark.parametrize("overlay", PRODUCTION)
def test_every_alert_tells_the_on_call_what_to_do(overlay: str) -> None:
    readme = README.read_text(encoding="utf-8")
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", readme, re.MULTILINE)}
    names = [a["alert"] for a in alerts(overlay)]
    assert len(names) == len(set(names)), f"alert names repeat: {names}"
    problems = []
    for alert in alerts(overlay):
        name = alert["alert"]
        if not alert.get("for"):
            problems.append(f"{name}: no for: (a single bad scrape would page)")
        if alert.get("labels", {}).get("severity") not in SEVERITIES:
            problems.append(f"{name}: severity must be one of {SEVERITIES}")
        annotations = alert.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"{name}: no {key} annotation")
        url = annotations.get("runbook_url", "")
        link = re.fullmatch(r"https://\S+/README\.md#([a-z0-9-]+)", url)
        if not link or link.group(1) not in anchors:
            problems.append(f"{name}: runbook_url {url} is not a section of README.md")
        elif f"`{name}`" not in _section(readme, link.group(1)):
            problems.append(
                f"{name}: README.md's #{link.group(1)} does not say what to do about it"
            )
    assert not problems, "\n".join(problems)


def test_the_brief_alerts_are_all_there() -> None:
    # What an on-call needs watched (issue 14): the metric each must read.
    expected = {
        "OnedoorOutboxStuck": "onedoor_outbox_oldest_age_seconds",
        "OnedoorRouterBacklogGrowing": "rabbitmq_queue_messages_ready",
        "OnedoorGrpcServerErrors": "rpc_server_duration_seconds_count",
        "OnedoorHttpServerErrors": "http_server_request_duration_seconds_count",
        "OnedoorCasesOverdueRising": "onedoor_cases_overdue",
        "OnedoorForwardUndelivered": "onedoor_federation_forwards_oldest_age_seconds",
        "OnedoorPeerRefusesTls": "onedoor_federation_forward_refusals_total",
        "OnedoorCertificateExpiresSoon": "onedoor_tls_certificate_not_after_seconds",
        "OnedoorTargetDown": "up",
    }
    for overlay in PRODUCTION:
        by_name = {a["alert"]: a for a in alerts(overlay)}
        for name, metric in expected.items():
            assert name in by_name, f"overlays/{overlay}: no alert {name}"
            selected, _ = analyse(Query(name, str(by_name[name]["expr"])))
            assert metric in {s.metric for s in selected}, f"{name} does not read {metric}"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is needed to check the alert rules: it comes with Debian's prometheus "
            "package, which `make infra` (deploy/local/ensure-infra.sh) installs"
        )
    return found


@pytest.mark.parametrize("overlay", PRODUCTION)
def test_rules_pass_promtool(overlay: str, tmp_path: Path) -> None:
    promtool = _promtool()
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rule_file(overlay), allow_unicode=True), encoding="utf-8")
    (tmp_path / "alerts.test.yaml").write_text(
        (OBSERVABILITY / "alerts.test.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    for command in (["check", "rules", rules.name], ["test", "rules", "alerts.test.yaml"]):
        result = subprocess.run(
            [promtool, *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (
            f"promtool {' '.join(command)}:\n{result.stdout}{result.stderr}"
        )


def test_dashboard_shows_what_an_operator_looks_for() -> None:
    board = dashboard()
    assert board["uid"] and board["title"]
    panels = [p for p in dashboard_panels() if p["type"] != "row"]
    ids = [p["id"] for p in dashboard_panels()]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel.get("targets"), f"{panel['title']} queries nothing"
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, f"{panel['title']} is wider than the dashboard"
        for target in panel["targets"]:
            # every query one city's: two cities may share one Prometheus
            assert 'namespace="$namespace"' in target["expr"], f"{panel['title']}: {target['expr']}"
    shown = {s.metric for q in dashboard_queries() for s in analyse(q)[0]}
    wanted = {
        "onedoor_applications_accepted_total",
        "onedoor_applications_refused_total",
        "onedoor_router_routed_latency_seconds_bucket",
        "onedoor_outbox_waiting",
        "rabbitmq_queue_messages_ready",
        "rpc_server_duration_seconds_count",
        "http_server_request_duration_seconds_count",
        "onedoor_cases_overdue",
        "onedoor_cases_open",
        "onedoor_cases_due_soon",
        "onedoor_federation_forwards_waiting",
        "onedoor_federation_forwards_oldest_age_seconds",
        "onedoor_federation_forward_refusals_total",
        "onedoor_audit_append_duration_seconds_bucket",
    }
    assert wanted <= shown, f"the dashboard does not show {sorted(wanted - shown)}"
    latency = [
        t["expr"]
        for p in panels
        for t in p["targets"]
        if "onedoor_router_routed_latency_seconds_bucket" in t["expr"]
    ]
    assert {q for e in latency for q in re.findall(r"histogram_quantile\((0\.\d+)", e)} == {
        "0.5",
        "0.95",
        "0.99",
    }


@pytest.mark.parametrize("overlay", PRODUCTION)
def test_grafana_loads_the_dashboard(overlay: str) -> None:
    maps = [
        c
        for c in of_kind(overlay, "ConfigMap")
        if c["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    assert len(maps) == 1, (
        f"overlays/{overlay}: {len(maps)} dashboard ConfigMaps for the Grafana sidecar"
    )
    # a fixed name, so an edit replaces the dashboard rather than adding a copy with its uid
    assert maps[0]["metadata"]["name"] == "onedoor-dashboard"
    assert json.loads(maps[0]["data"]["onedoor.json"]) == dashboard()


@pytest.mark.parametrize("overlay", PRODUCTION)
def test_router_scales_on_its_backlog_with_cpu_to_fall_back_on(overlay: str) -> None:
    hpa = next(
        h
        for h in of_kind(overlay, "HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == "router"
    )
    kinds = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert set(kinds) == {"External", "Resource"}, kinds
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    external = kinds["External"]["external"]
    served = {rule["name"]["as"]: rule for rule in adapter_rules()}
    assert external["metric"]["name"] in served, (
        f"prometheus-adapter.yaml serves no external metric {external['metric']['name']}"
    )
    # per replica: the backlog spread over the routers, not one total
    assert external["target"]["type"] == "AverageValue"
    rule = served[external["metric"]["name"]]
    assert rule["resources"]["overrides"]["namespace"]["resource"] == "namespace", (
        "the metric must be namespaced, or one city's router scales on the other's backlog"
    )


def test_collector_pipelines_fit_what_the_processes_send() -> None:
    collector = yaml.safe_load((K8S / "collector" / "config.yaml").read_text(encoding="utf-8"))
    pipelines = collector["service"]["pipelines"]
    for name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in collector.get(kind, {}), (
                    f"pipeline {name}: {component} undefined"
                )
    assert "otlp" in pipelines["metrics"]["receivers"], (
        "metrics pushed with OTEL_METRICS_EXPORTER=otlp"
    )
    exporter = collector["exporters"][pipelines["metrics"]["exporters"][0]]
    port = int(exporter["endpoint"].rpartition(":")[2])
    for overlay in OVERLAYS:
        deployment = named(overlay, "Deployment", "otel-collector")
        assert deployment is not None
        ports = {
            p["name"]: p["containerPort"]
            for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
        }
        assert ports.get("metrics") == port, f"overlays/{overlay}: the collector's port metrics"
    # A logs pipeline only where a process ships its logs over OTLP; they write JSON to stdout.
    ships_logs = any("OTEL_LOGS_EXPORTER" in d.facts.reads for o in OVERLAYS for d in deployed(o))
    assert ("logs" in pipelines) == ships_logs


def test_the_metrics_ports_are_documented() -> None:
    readme = README.read_text(encoding="utf-8")
    k8s_readme = K8S_README.read_text(encoding="utf-8")
    for process, port in config.METRICS_PORTS.items():
        variable = f"{process.upper()}_METRICS_PORT"
        assert re.search(rf"`{variable}`[^\n]*`{port}`", readme), (
            f"README.md does not give {variable}'s default, {port}"
        )
        assert f"`{variable}`" in k8s_readme, f"deploy/k8s/README.md does not name {variable}"
    assert str(config.FIRST_METRICS_PORT) in k8s_readme


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    heading = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def _section(markdown: str, anchor: str) -> str:
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        heading = re.match(r"^(#+) (.+)$", line)
        if heading and _anchor(heading.group(2)) == anchor:
            depth = len(heading.group(1))
            end = next(
                (
                    j
                    for j in range(i + 1, len(lines))
                    if (m := re.match(r"^(#+) ", lines[j])) and len(m.group(1)) <= depth
                ),
                len(lines),
            )
            return "\n".join(lines[i:end])
    return ""

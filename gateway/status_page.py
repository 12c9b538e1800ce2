"""The public status page behind a receipt's QR code: ``GET /s/{receipt}?c={code}``.

The code is an HMAC of the receipt with the gateway's status-page key
(``GATEWAY_STATUS_PAGE_KEY``), so a page cannot be found from a receipt alone; the QR printed
on the receipt carries both (gateway/console/receipt_qr.py). No sign-in: the page shows the
matter, the status, the deadline and the next step in Chinese, and nothing personal (intake's
basic view holds no name, identity number or phone), so a view is counted, not audited as a
read of personal data. A wrong or missing code is answered exactly as an unknown receipt is,
and each client is held to a few views a minute (429).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

import grpc
from aiohttp import web

from gateway.rendering import Renderer
from gateway.window import Window
from onedoor.case.v1 import case_pb2
from onedoor.intake.v1 import intake_service_pb2
from services.common import metric_catalog, telemetry
from services.common.errors import ApiError
from services.common.metric_catalog import STATUS_PAGE_VIEWS
from services.common.receipt import is_receipt

log = logging.getLogger(__name__)
PREFIX = "/s/"
CODE_LENGTH = 16
_views = metric_catalog.counter(STATUS_PAGE_VIEWS)

# What the applicant does next, by the case's status.
NEXT_STEP = {
    case_pb2.CASE_STATUS_ACCEPTED: "申请已受理，正在转交承办部门，请耐心等待。",
    case_pb2.CASE_STATUS_ROUTED: "承办部门正在审核，结果将以短信告知。",
    case_pb2.CASE_STATUS_AWAITING_MATERIALS: "请按短信通知携带所需材料到受理窗口补正，补齐前办理期限暂停计算。",
    case_pb2.CASE_STATUS_APPROVED: "已办结，已批准。",
    case_pb2.CASE_STATUS_REJECTED: "已办结，未予批准；如不服，可依法申请行政复议或提起行政诉讼。",
    case_pb2.CASE_STATUS_COMPLETED: "各相关部门均已办结。",
    case_pb2.CASE_STATUS_WITHDRAWN: "申请已撤回，无需再办理。",
    case_pb2.CASE_STATUS_LAPSED: "申请已视为撤回；如需办理，请重新申请。",
    case_pb2.CASE_STATUS_FORWARDED: "已转户籍地民政部门办理，结果将以短信告知。",
}


def code_for(key: str, receipt: str) -> str:
    """The receipt's verification code: 80 bits of HMAC-SHA256, in base32 without padding."""
    digest = hmac.new(key.encode(), receipt.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode()[:CODE_LENGTH]


def url_for(base: str, key: str, receipt: str) -> str:
    return f"{base.rstrip('/')}{PREFIX}{receipt}?c={code_for(key, receipt)}"


def is_public(path: str) -> bool:
    return path.startswith(PREFIX)


@dataclass
class RateLimit:
    """At most ``per_minute`` views a minute per client (a token bucket each, the oldest
    forgotten past ``clients``), so codes cannot be tried by the thousand."""

    per_minute: int = 30
    clients: int = 10_000

    def __post_init__(self) -> None:
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self.buckets.pop(client, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)
        allowed = tokens >= 1.0
        self.buckets[client] = (tokens - 1.0 if allowed else tokens, now)
        while len(self.buckets) > self.clients:
            self.buckets.popitem(last=False)
        return allowed


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222}}
dt{{color:#666;margin-top:.8rem}}dd{{margin:0;font-size:1.1rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(
    status: int, title: str, body: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        text=_PAGE.format(title=html.escape(title), body=body),
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            **(headers or {}),
        },
    )


def not_found() -> web.Response:
    _views.add(1, {"result": "not_found"})
    return _page(404, "未找到", "<p>未找到该受理编号，请核对回执上的二维码。</p>")


def shown(case: case_pb2.Case, window: Window) -> web.Response:
    zh = Renderer("zh-CN")
    deadline = window.clock.local_date(case.decision_deadline.ToDatetime(dt.UTC))
    rows = [
        ("受理编号", case.receipt),
        ("事项", zh.matter(case.matter_code)),
        ("承办部门", "、".join(zh.department(d) for d in case.departments)),
        ("办理状态", zh.status(case.status)),
        ("办理期限", f"{deadline.year}年{deadline.month}月{deadline.day}日"),
        ("下一步", NEXT_STEP.get(case.status, "请以短信通知为准。")),
    ]
    body = (
        "<dl>"
        + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
        + "</dl>"
    )
    _views.add(1, {"result": "shown"})
    return _page(200, "办理进度", body)


def add_routes(
    app: web.Application, window: Window, key: str, limit: RateLimit | None = None
) -> None:
    limiter = limit or RateLimit()

    async def status(request: web.Request) -> web.StreamResponse:
        if not limiter.allow(request.remote or ""):
            _views.add(1, {"result": "rate_limited"})
            return _page(
                429, "请稍后再试", "<p>查询过于频繁，请稍后再试。</p>", {"Retry-After": "60"}
            )
        receipt = request.match_info["receipt"]
        given = request.query.get("c", "")
        # The same answer for a malformed receipt, a wrong or missing code and an unknown case.
        if not is_receipt(receipt) or not hmac.compare_digest(
            given.encode(), code_for(key, receipt).encode()
        ):
            return not_found()
        with telemetry.bound_receipt(receipt):
            try:
                case = await window.case(receipt, intake_service_pb2.CASE_VIEW_BASIC)
            except ApiError as error:
                if error.code == grpc.StatusCode.NOT_FOUND:
                    return not_found()
                raise
            return shown(case, window)

    app.router.add_get(PREFIX + "{receipt}", status)

"""The QR code printed on an acceptance receipt: the URL of the case's public status page
(gateway/status_page.py), which carries the receipt and its verification code, so a phone
opens the page and a scanner at the window still reads the receipt out of it. Until the
gateway's ``__main__`` configures the page (:func:`configure`) it holds the receipt alone."""

from __future__ import annotations

import io

import segno

_status_link: tuple[str, str] | None = None


def configure(base_url: str, key: str) -> None:
    """Where the status page is served (its public base URL) and the key of its codes."""
    global _status_link
    _status_link = (base_url, key)


def content_for(receipt: str) -> str:
    """What the code holds: the status page's URL, or the receipt before configuration."""
    if _status_link is None:
        return receipt
    from gateway.status_page import url_for

    base, key = _status_link
    return url_for(base, key, receipt)


def receipt_svg(receipt: str) -> bytes:
    """An SVG without a fixed size, so the receipt page and its print-out scale it by CSS.
    Error correction M survives a creased or smudged print-out; a URL of some 60 characters
    is still a small code (version 4 or 5)."""
    code = segno.make_qr(content_for(receipt), error="m")
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=1,
        border=4,
        xmldecl=False,
        omitsize=True,
        title=receipt,
        svgclass="receipt-qr",
        light="#fff",
        lineclass=None,
    )
    return out.getvalue()

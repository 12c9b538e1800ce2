"""The QR code printed on an acceptance receipt: it holds the receipt number only, so a phone
or a scanner at the window reads it back into a look-up without anyone typing it."""

from __future__ import annotations

import io

import segno


def receipt_svg(receipt: str) -> bytes:
    """An SVG without a fixed size, so the receipt page and its print-out scale it by CSS.
    Error correction M survives a creased or smudged print-out of a code this short."""
    code = segno.make_qr(receipt, error="m")
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

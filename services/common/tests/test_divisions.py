"""Tests for services.common.divisions."""

from __future__ import annotations

import pytest

from services.common import divisions
from services.common.divisions import Division


def test_taicang() -> None:
    assert divisions.lookup("320585") == Division(code="320585", name="太仓市", parent="320500")


def test_kunshan() -> None:
    division = divisions.lookup("320583")
    assert division is not None
    assert division.name == "昆山市"
    assert division.parent == "320500"


def test_prefecture_and_province_rows() -> None:
    assert divisions.lookup("320500") == Division("320500", "苏州市", "320000")
    assert divisions.lookup("320000") == Division("320000", "江苏省", None)


def test_pudong_in_municipality() -> None:
    assert divisions.lookup("310115") == Division("310115", "浦东新区", "310100")
    assert divisions.lookup("310100") == Division("310100", "上海市", "310000")


def test_province_administered_county() -> None:
    # 济源市 has no prefecture row; its parent is the province.
    assert divisions.lookup("419001") == Division("419001", "济源市", "410000")


@pytest.mark.parametrize(
    "code", ["999999", "320599", "", "32058", "3205850", "32058a", "320585000000"]
)
def test_unknown_or_malformed(code: str) -> None:
    assert divisions.lookup(code) is None
    assert not divisions.is_known(code)


def test_is_known() -> None:
    assert divisions.is_known("320585")
    assert divisions.is_known("310115")


def test_province_of() -> None:
    assert divisions.province_of("320585") == "320000"
    assert divisions.province_of("320500") == "320000"
    assert divisions.province_of("320000") == "320000"
    assert divisions.province_of("310115") == "310000"


def test_prefecture_of() -> None:
    assert divisions.prefecture_of("320585") == "320500"
    assert divisions.prefecture_of("320583") == "320500"
    assert divisions.prefecture_of("320500") == "320500"
    assert divisions.prefecture_of("310115") == "310100"


def test_prefecture_of_province_raises() -> None:
    with pytest.raises(ValueError):
        divisions.prefecture_of("320000")


@pytest.mark.parametrize("code", ["", "32058", "abcdef", "320585000000"])
def test_structural_helpers_reject_malformed(code: str) -> None:
    with pytest.raises(ValueError):
        divisions.province_of(code)
    with pytest.raises(ValueError):
        divisions.prefecture_of(code)


def test_full_name() -> None:
    assert divisions.full_name("320585") == "江苏省苏州市太仓市"
    assert divisions.full_name("320583") == "江苏省苏州市昆山市"
    assert divisions.full_name("320500") == "江苏省苏州市"
    assert divisions.full_name("320000") == "江苏省"


def test_full_name_municipality() -> None:
    assert divisions.full_name("310115") == "上海市浦东新区"
    assert divisions.full_name("310100") == "上海市"
    assert divisions.full_name("500235") == "重庆市云阳县"


def test_full_name_province_administered_county() -> None:
    assert divisions.full_name("419001") == "河南省济源市"


def test_full_name_unknown_raises() -> None:
    with pytest.raises(ValueError):
        divisions.full_name("999999")


def test_table_shape() -> None:
    table = divisions._table()
    assert len(table) == 3427
    assert "990000" not in table
    for division in table.values():
        assert division.parent is None or division.parent in table
        assert (division.parent is None) == division.code.endswith("0000")

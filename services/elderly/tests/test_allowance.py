import pytest

from services.elderly import allowance

TABLE = allowance.parse(
    """
    [default]
    80 = 50
    90 = 100
    100 = 300
    ["3205"]
    80 = 100
    90 = 200
    100 = 500
    """
)


@pytest.mark.parametrize(
    ("age", "label", "yuan"),
    [(80, "80-89", 100), (89, "80-89", 100), (90, "90-99", 200), (104, "100+", 500)],
)
def test_bands_and_amounts_in_suzhou(age, label, yuan):
    band = TABLE.band_of(age, "320585")
    assert band is not None and band.label == label
    assert TABLE.amount_fen(band, "320585") == yuan * 100


def test_other_jurisdictions_use_the_default_amounts():
    band = TABLE.band_of(95, "110101")
    assert TABLE.amount_fen(band, "110101") == 10000


def test_79_is_below_every_band():
    assert TABLE.band_of(79, "320585") is None


def test_the_shipped_table_loads():
    assert allowance.load().band_of(100, "320585") is not None


def test_bands_below_sixty_are_refused():
    with pytest.raises(ValueError):
        allowance.parse("[default]\n50 = 10\n")

"""TO_CHAR(number, 'RN') (r_TO_CHAR.md's roman numerals) on both engines (functions/numbers.py on DuckDB)."""

from __future__ import annotations

from tests.unit.translate.conftest import run_script


def test_roman_numerals_from_the_reference(session):
    # r_TO_CHAR.md: to_char(125, 'RN') is CXXV; 'rn' of 618.80, 64.60, 297.50 (rounded) is dcxix, lxv, ccxcviii;
    # the numeral is right-aligned in 15 characters (the reference's column shows the blanks)
    assert run_script(session, "select to_char(125, 'RN'), to_char(618.80, 'rn'), to_char(64.60, 'rn'),"
                               " to_char(297.50, 'rn')").rows == [
        ("           CXXV", "          dcxix", "            lxv", "       ccxcviii")]


def test_roman_numerals_fill_mode_range_and_rounding(session):
    assert run_script(session, "select to_char(3999, 'FMRN'), to_char(1994, 'fmrn'), to_char(0, 'RN'),"
                               " to_char(4000, 'RN'), to_char(-5, 'RN'), to_char(cast(null as int), 'RN'),"
                               " to_char(2.5::float8, 'FMRN'), to_char(2.5, 'FMRN')").rows == [
        ("MMMCMXCIX", "mcmxciv", "#" * 15, "#" * 15, "#" * 15, None, "II", "III")]

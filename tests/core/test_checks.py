"""Whole numbers people typed: accepted as numbers or text, refused with their name and range."""

import pytest

from convlstm.core.checks import whole_number


@pytest.mark.parametrize(("value", "number"), [(3, 3), ("3", 3), (3.0, 3), ("3.0", 3), (" 7 ", 7), ("1e1", 10), (0, 0)])
def test_whole_numbers_as_numbers_or_text(value, number):
    got = whole_number("The seed", value, 0, 10)
    assert got == number and type(got) is int


@pytest.mark.parametrize("value", [2.5, "2.5", "x", "", None, [3], 11, -1, "11", float("nan"), float("inf")])
def test_anything_else_is_refused_with_the_name_the_range_and_the_value(value):
    with pytest.raises(ValueError) as refused:
        whole_number("The horizon", value, 0, 10)
    assert str(refused.value) == f"The horizon must be a whole number from 0 to 10, got {value!r}."

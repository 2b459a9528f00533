"""Checks of the numbers people pass in, with messages written for them."""

from __future__ import annotations


def whole_number(name: str, value, low: int, high: int) -> int:
    """``value`` as an int in [low, high] (a number or its text; 3.0 is 3), else ValueError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}.") from None
    if not number.is_integer() or not low <= number <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}.")
    return int(number)

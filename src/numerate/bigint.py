"""Decimal strings <-> Python integers of any length.

Python refuses int/str conversions beyond 4300 digits by default (a guard against slow quadratic conversions of
untrusted input). numerate's numbers are meant to be long, so its conversions lift the limit for the call only;
100,000 digits convert in well under a second.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager


@contextmanager
def unlimited_digits():
    get = getattr(sys, "get_int_max_str_digits", None)
    if get is None:  # Python < 3.11 (and < 3.10.7) has no limit
        yield
        return
    old = get()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def to_str(n: int) -> str:
    with unlimited_digits():
        return str(n)


def from_str(text: str) -> int:
    with unlimited_digits():
        return int(text)

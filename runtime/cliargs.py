"""Argument types shared by the command-line modules: each refuses a bad value with a
message argparse prints after the option's name (`--timeout: must be greater than 0`)."""

from __future__ import annotations

__all__ = ["non_negative_int", "positive_int", "positive_seconds", "seconds"]

import argparse


_MAX = 2**63 - 1   # ids and counts are 64-bit in the database


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value > _MAX:
        raise argparse.ArgumentTypeError(f"must be at most {_MAX}, got {text[:30]}")
    return value


def positive_int(text: str) -> int:
    value = _whole(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _number_of_seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") \
            from None


def positive_seconds(text: str) -> float:
    value = _number_of_seconds(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def seconds(text: str) -> float:
    """0 up to a year (leases, polls, grace periods, back-offs)."""
    value = _number_of_seconds(text)
    if not 0 <= value <= 86400 * 366:
        raise argparse.ArgumentTypeError(f"out of range: {text}")
    return value

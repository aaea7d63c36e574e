"""Errors raised by the mock Customer.io.

* MockError (Exception)              root of everything mock_cio raises on purpose
"""

from __future__ import annotations


class MockError(Exception):
    """Root of every error the mock_cio package raises on purpose."""

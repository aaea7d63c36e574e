"""Shared by the tests of sandbox.replay.keypass's readers: its block size, set for a while."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sandbox.replay import keypass


@contextmanager
def block_size(size: int) -> Iterator[None]:
    """keypass reads plain files `size` bytes at a time (its lines are split off each block)."""
    saved = keypass._BLOCK
    keypass._BLOCK = size
    try:
        yield
    finally:
        keypass._BLOCK = saved

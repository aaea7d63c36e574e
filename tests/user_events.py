"""A small generated stream of Segment events for command-line tests: identify and track calls of
20 users, each user with a few anonymous ids, spread over six days."""

from __future__ import annotations

import random


def events(count: int, seed: int) -> list[dict[str, object]]:
    """`count` identify and track events of 20 users, the same for the same `seed`."""
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for number in range(count):
        user, anon = f"user-{rng.randint(1, 20)}", f"anon-{rng.randint(1, 30)}"
        at = f"2024-03-0{rng.randint(1, 6)}T12:00:00Z"
        common = {"userId": user, "anonymousId": anon, "timestamp": at, "messageId": f"m{seed}-{number}"}
        if rng.random() < 0.4:
            out.append({"type": "identify", "traits": {"email": f"{user}@example.com"}, **common})
        else:
            out.append({"type": "track", "event": "Order Completed", "properties": {"total": 5}, **common})
    return out

"""Pure traffic generators (no Django): arrivals, customer patience and handle times, seeded.

Arrivals are a non-homogeneous Poisson process (thinning, Lewis & Shedler 1979) whose rate follows an
intraday profile; patience is exponential (classic Erlang-A abandonment); handle times are lognormal
(right-skewed like real talk times).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from random import Random

# Relative call volume per hour of the day (retail hotline shape: morning and early-evening peaks).
DAY_SHAPE = (0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.5, 1.8, 1.8, 1.7,
             1.5, 1.5, 1.6, 1.6, 1.5, 1.5, 1.6, 1.4, 1.0, 0.7, 0.4, 0.25)
_MEAN = sum(DAY_SHAPE) / 24
DAY = tuple(v / _MEAN for v in DAY_SHAPE)  # normalised: the mean over 24 hours is 1

Profile = Callable[[float], float]


def flat(_hour: float) -> float:
    return 1.0


def day(hour: float) -> float:
    """Multiplier of the mean rate at a local hour (0 ≤ hour < 24), linear between hour centres."""
    h = (hour - 0.5) % 24
    low = int(h)
    frac = h - low
    return DAY[low] * (1 - frac) + DAY[(low + 1) % 24] * frac


PROFILES: dict[str, Profile] = {"flat": flat, "day": day}
PEAK = {"flat": 1.0, "day": max(DAY)}


def arrivals(rate_per_hour: float, seconds: float, rng: Random, *, profile: Profile = flat,
             start_hour: float = 0.0, peak: float | None = None) -> list[float]:
    """Arrival offsets (seconds from the start) over `seconds`; the rate at t is rate × profile(hour at t)."""
    if rate_per_hour <= 0 or seconds <= 0:
        return []
    top = peak if peak is not None else max(profile(h / 4) for h in range(96))
    lam_max = rate_per_hour * top / 3600.0
    out: list[float] = []
    t = 0.0
    while True:
        t += rng.expovariate(lam_max)
        if t >= seconds:
            return out
        hour = (start_hour + t / 3600.0) % 24
        if rng.random() * top <= profile(hour):
            out.append(t)


def patience(mean_s: float, rng: Random) -> float:
    return rng.expovariate(1.0 / mean_s)


def lognormal(mean_s: float, cv: float, rng: Random) -> float:
    """A lognormal sample with the given mean and coefficient of variation."""
    sigma2 = math.log(1 + cv * cv)
    return rng.lognormvariate(math.log(mean_s) - sigma2 / 2, math.sqrt(sigma2))


@dataclass(frozen=True)
class ChannelSpec:
    channel: str  # "call" or "chat"
    per_hour: float
    patience_mean_s: float
    handle_mean_s: float
    handle_cv: float = 0.6


CALLS = ChannelSpec("call", 0, patience_mean_s=90, handle_mean_s=180)
CHATS = ChannelSpec("chat", 0, patience_mean_s=240, handle_mean_s=360, handle_cv=0.8)


@dataclass(frozen=True)
class Contact:
    channel: str
    n: int  # 1-based number within its channel
    arrival_s: float
    patience_s: float
    handle_s: float


def contacts(specs: list[ChannelSpec], seconds: float, seed: int, *, profile: str = "flat",
             start_hour: float = 0.0) -> list[Contact]:
    """All contacts of a run, in arrival order; each channel has its own random stream, so changing
    the chat rate leaves the calls unchanged."""
    shape = PROFILES[profile]
    out: list[Contact] = []
    for spec in specs:
        rng = Random(f"{seed}-{spec.channel}")  # noqa: S311 (reproducible simulation, not secrets)
        times = arrivals(spec.per_hour, seconds, rng, profile=shape, start_hour=start_hour, peak=PEAK[profile])
        out += [Contact(spec.channel, i, t, patience(spec.patience_mean_s, rng),
                        lognormal(spec.handle_mean_s, spec.handle_cv, rng)) for i, t in enumerate(times, 1)]
    return sorted(out, key=lambda c: (c.arrival_s, c.channel))

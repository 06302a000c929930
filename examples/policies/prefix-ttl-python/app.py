"""The prefix-TTL example policy, in Python (componentize-py).

The same decisions as ../prefix-ttl-rust, ../prefix-ttl-js and ../prefix-ttl-c
(../README.md is the shared spec): TTL by the longest matching key prefix from
the configuration, memory for objects that fit, disk unless the object lives a
minute or less, memory on promotion only from the second read. It keeps no
eviction order (world `policy`): the host's CLOCK evicts for it.

The component is built with --stub-wasi: it has no WASI at all, so `print`
traps. Log through the host's `log` import instead.
"""

from typing import Callable, List, Optional, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import current_object, host
from wit_world.imports.types import (
    Capacity,
    Placement,
    PolicyIdentity,
    ReadInfo,
    Tier,
    TierSet,
    WriteInfo,
)

MINUTE_MS = 60_000
MAX_TTL_SECONDS = 999_999_999
MAX_BYTES = 999_999_999_999_999


class Config:
    """The validated configuration; the defaults are those of no pairs and zero budgets."""

    def __init__(self) -> None:
        self.rules: List[Tuple[str, Optional[int]]] = []
        self.default_ttl_ms: Optional[int] = None
        self.hot_max_object_bytes = 1 << 20
        self.hot_enabled = False
        self.warm_enabled = False

    def rule_ttl(self, read_key: Callable[[], str]) -> Optional[int]:
        """The TTL of the longest prefix the key starts with, else the default.

        The key is read (from the host, a copy into this component) only when
        there is a prefix rule to match it against."""
        if not self.rules:
            return self.default_ttl_ms
        key = read_key()
        best = None
        for prefix, ttl in self.rules:
            if key.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, ttl)
        return self.default_ttl_ms if best is None else best[1]

    def fits_hot(self, size: int) -> bool:
        return self.hot_enabled and size <= self.hot_max_object_bytes


def parse_whole(key: str, value: str, lo: int, hi: int) -> int:
    """ASCII digits only, within lo..=hi."""
    bad = f"`{key}` = `{value}`: expected a whole number from {lo} to {hi}"
    if not value or len(value) > 15 or any(c not in "0123456789" for c in value):
        raise Err(bad)
    n = int(value)
    if n < lo or n > hi:
        raise Err(bad)
    return n


def parse_ttl(key: str, value: str) -> Optional[int]:
    if value == "never":
        return None
    return parse_whole(key, value, 1, MAX_TTL_SECONDS) * 1000


def parse(pairs: List[Tuple[str, str]], hot_bytes: int, warm_bytes: int) -> Config:
    cfg = Config()
    cfg.hot_enabled = hot_bytes > 0
    cfg.warm_enabled = warm_bytes > 0
    seen = set()
    for key, value in pairs:
        if key in seen:
            raise Err(f"`{key}` is set twice")
        seen.add(key)
        if key.startswith("ttl."):
            prefix = key[len("ttl."):]
            if not prefix:
                raise Err("`ttl.` needs a prefix after the dot (use `default_ttl` for every key)")
            cfg.rules.append((prefix, parse_ttl(key, value)))
        elif key == "default_ttl":
            cfg.default_ttl_ms = parse_ttl(key, value)
        elif key == "hot_max_object_bytes":
            cfg.hot_max_object_bytes = parse_whole(key, value, 0, MAX_BYTES)
        else:
            raise Err(
                f"unknown key `{key}` (expected `ttl.<prefix>`, `default_ttl` or `hot_max_object_bytes`)"
            )
    return cfg


CONFIG = Config()


# The four answers, built once: combining `enum.Flag` members on every call
# costs more than the rest of a decision.
TIER_SETS = {
    (False, False): TierSet(0),
    (True, False): TierSet.HOT,
    (False, True): TierSet.WARM,
    (True, True): TierSet.HOT | TierSet.WARM,
}


def tiers(hot: bool, warm: bool) -> TierSet:
    return TIER_SETS[(hot, warm)]


class Decisions(exports.Decisions):
    def identity(self) -> PolicyIdentity:
        return PolicyIdentity(name="prefix-ttl", version="0.1.0+python")

    def configure(self, config: List[Tuple[str, str]], capacities: List[Capacity]) -> None:
        global CONFIG
        budgets = {c.tier: c.max_bytes for c in capacities}
        cfg = parse(config, budgets.get(Tier.HOT, 0), budgets.get(Tier.WARM, 0))
        ttl = "never" if cfg.default_ttl_ms is None else f"{cfg.default_ttl_ms // 1000} s"
        host.log(
            host.Level.INFO,
            f"configured: {len(cfg.rules)} prefix rule(s), default ttl {ttl}, "
            f"memory for objects up to {cfg.hot_max_object_bytes} B",
        )
        CONFIG = cfg

    def place(self, write: WriteInfo) -> Placement:
        rule = CONFIG.rule_ttl(current_object.key)
        asked = write.requested_ttl_ms
        ttl = min(rule, asked) if rule is not None and asked is not None else (asked if rule is None else rule)
        short_lived = ttl is not None and ttl <= MINUTE_MS
        hot, warm = CONFIG.fits_hot(write.size), CONFIG.warm_enabled and not short_lived
        return Placement(tiers=tiers(hot, warm), ttl_ms=ttl, class_=0)

    def promote(self, read: ReadInfo) -> TierSet:
        expiring = read.expires_in_ms is not None and read.expires_in_ms < 1000
        if expiring or read.served_by == Tier.HOT:
            return tiers(False, False)
        hot = CONFIG.fits_hot(read.size) and read.access_count >= 2
        warm = read.served_by == Tier.COLD and CONFIG.warm_enabled
        return tiers(hot, warm)

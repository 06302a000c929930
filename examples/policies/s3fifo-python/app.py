"""S3-FIFO as an ordered policy, in Python (componentize-py).

J. Yang, Y. Zhang, Z. Qiu, Y. Yue, K. V. Rashmi, "FIFO queues are all you
need for cache eviction", SOSP 2023, as libCacheSim's S3FIFO.c runs it. The
same answers, call by call, as the library's Rust version
(../algorithms/s3fifo) and the JavaScript and C versions beside this folder
(../README.md, "S3-FIFO in four languages", is the shared spec):

- small (small-size-ratio of the cache, default 0.1) takes new objects;
  evicted from it, an object read move-to-main-threshold times (default 2)
  moves to main, any other leaves and its id goes to the ghost;
- main (the rest) is a CLOCK with a 2-bit count;
- ghost (ghost-size-ratio of the cache, default 0.9, counted with the
  objects' sizes) remembers ids evicted from small: an arrival found there
  enters main.

Every budget is a whole number of libCacheSim's bytes: while every object
seen has had one size, that size (one object of a unit-size trace), else 1.

Around the order, the component does what the Rust kit's does: every cache
tier on a write with the writer's TTL, a copy in every tier above the one
that served a read, one order per tier, the parameters checked with the
kit's messages. Built with --stub-wasi: the component has no WASI at all,
so `print` traps.
"""

import re
from collections import OrderedDict
from typing import List, Optional, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports.types import (
    Admission,
    Admission_Admit,
    Admission_Refuse,
    Arrival,
    Capacity,
    Events,
    Placement,
    PolicyIdentity,
    ReadInfo,
    Tier,
    TierSet,
    WriteInfo,
)

NAME = "s3fifo"
VERSION = "0.1.0+python"
U64_MAX = (1 << 64) - 1
U32_MAX = (1 << 32) - 1

# Event kinds (wit/policy.wit, record `events`).
HIT, ARRIVAL, REMOVAL, HOST_EVICTION = 0, 1, 2, 3


def to_u64(x: float) -> int:
    """A float as an unsigned 64-bit integer, truncated and saturated."""
    if x != x or x <= 0:
        return 0
    return U64_MAX if x >= 2.0**64 else int(x)


class SizeUnit:
    """libCacheSim's "one byte": the size every object seen so far shares, else 1."""

    def __init__(self) -> None:
        self.common: Optional[int] = None
        self.mixed = False

    def observe(self, size: int) -> bool:
        """Whether the unit may have changed."""
        if self.common is None and not self.mixed:
            self.common = size
            return True
        if self.common is not None and self.common != size:
            self.common = None
            self.mixed = True
            return True
        return False

    def bytes(self) -> int:
        return max(self.common or 1, 1)


class Fifo:
    """Objects keyed by id, oldest first, each with its size and a count."""

    def __init__(self) -> None:
        self.entries: "OrderedDict[int, List[int]]" = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, id: int) -> bool:
        return id in self.entries

    def push(self, id: int, size: int, count: int = 0) -> None:
        """Enters `id` as the newest (an entry already held is replaced)."""
        self.remove(id)
        self.entries[id] = [size, count]
        self.bytes += size

    def remove(self, id: int) -> bool:
        entry = self.entries.pop(id, None)
        if entry is None:
            return False
        self.bytes -= entry[0]
        return True

    def pop_oldest(self) -> Tuple[int, int, int]:
        id, (size, count) = self.entries.popitem(last=False)
        self.bytes -= size
        return id, size, count


class Params:
    def __init__(self, small_ratio: float = 0.1, ghost_ratio: float = 0.9, threshold: int = 2) -> None:
        self.small_ratio = small_ratio
        self.ghost_ratio = ghost_ratio
        self.threshold = threshold


class S3Fifo:
    """The S3-FIFO order of one cache tier."""

    def __init__(self, capacity: int, params: Params) -> None:
        self.capacity = capacity
        self.params = params
        self.unit = SizeUnit()
        self.small = Fifo()  # counts: reads since the object entered
        self.main = Fifo()  # counts: the 2-bit CLOCK count
        self.ghost = Fifo()  # ids evicted from small, with their sizes
        self.has_evicted = False
        self.set_budgets()

    def set_budgets(self) -> None:
        unit = self.unit.bytes()
        units = float(self.capacity // unit)
        self.small_bytes = min(unit * to_u64(units * self.params.small_ratio), U64_MAX)
        self.main_bytes = max(self.capacity - self.small_bytes, 0)
        self.ghost_bytes = min(unit * to_u64(units * self.params.ghost_ratio), U64_MAX)

    def observe(self, size: int) -> None:
        if self.unit.observe(size):
            self.set_budgets()

    def __len__(self) -> int:
        return len(self.small) + len(self.main)

    def forget_resident(self, id: int) -> None:
        if not self.small.remove(id):
            self.main.remove(id)

    def enqueue(self, id: int, size: int, from_ghost: bool) -> None:
        """Into main when the ghost remembered it, or when small is full and
        nothing was evicted yet; else into small."""
        if from_ghost or (not self.has_evicted and self.small.bytes >= self.small_bytes):
            self.main.push(id, size)
        else:
            self.small.push(id, size)

    def remember(self, id: int, size: int) -> None:
        if self.ghost_bytes == 0 or size > self.ghost_bytes or id in self.ghost:
            return
        while self.ghost.bytes + size > self.ghost_bytes:
            self.ghost.pop_oldest()
        self.ghost.push(id, size)

    def evict_small(self) -> Optional[Tuple[int, int]]:
        while self.small:
            id, size, reads = self.small.pop_oldest()
            if reads >= self.params.threshold:
                self.main.push(id, size)
            else:
                self.remember(id, size)
                return id, size
        return None

    def evict_main(self) -> Optional[Tuple[int, int]]:
        while self.main:
            id, size, count = self.main.pop_oldest()
            if count >= 1:
                self.main.push(id, size, min(count, 3) - 1)
            else:
                return id, size
        return None

    def evict_one(self) -> Optional[Tuple[int, int]]:
        self.has_evicted = True
        while len(self) > 0:
            if self.main.bytes > self.main_bytes or not self.small:
                victim = self.evict_main()
            else:
                victim = self.evict_small()
            if victim is not None:
                return victim
        return None

    def evict(self, need: int) -> List[int]:
        victims: List[int] = []
        freed = 0
        while freed < need:
            victim = self.evict_one()
            if victim is None:
                break
            victims.append(victim[0])
            freed += victim[1]
        return victims

    # The events of the host.

    def hit(self, id: int) -> None:
        entry = self.small.entries.get(id) or self.main.entries.get(id)
        if entry is not None:
            entry[1] = min(entry[1] + 1, U32_MAX)

    def insert(self, id: int, size: int) -> None:
        self.observe(size)
        self.enqueue(id, size, self.ghost.remove(id))

    def arrive(self, id: int, size: int) -> None:
        """Held whatever its size: the host already placed it."""
        self.forget_resident(id)
        self.insert(id, size)

    def remove(self, id: int) -> None:
        """libCacheSim's removal: from small, else from the ghost, else main."""
        if not self.small.remove(id) and not self.ghost.remove(id):
            self.main.remove(id)

    def apply(self, events: Events) -> None:
        for kind, id, size in zip(events.kind, events.id, events.size):
            if kind == HIT:
                self.hit(id)
            elif kind == ARRIVAL:
                self.arrive(id, size)
            elif kind == REMOVAL or kind == HOST_EVICTION:
                self.remove(id)

    def admit(self, id: int, size: int, need: int) -> Optional[List[int]]:
        """The victims to evict before `id` enters, or None: refused."""
        self.observe(size)
        self.forget_resident(id)
        from_ghost = self.ghost.remove(id)
        if size > self.small_bytes or (size == self.small_bytes and not from_ghost):
            return None
        victims = self.evict(need)
        self.enqueue(id, size, from_ghost)
        return victims


# Parameters, parsed as the Rust kit parses them (`text.trim().parse()`)
# and rejected with its messages.

WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
FLOAT = re.compile(r"[+-]?(inf|infinity|nan|([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)", re.IGNORECASE)
UNSIGNED = re.compile(r"\+?[0-9]+")
ESCAPES = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"'}
KEYS = ("small-size-ratio", "ghost-size-ratio", "move-to-main-threshold")


def quoted(text: str) -> str:
    """`text` in double quotes with Rust's escapes."""
    out = ['"']
    for ch in text:
        if ch in ESCAPES:
            out.append(ESCAPES[ch])
        elif ch < " " or "\x7f" <= ch <= "\x9f":
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def number(pairs: List[Tuple[str, str]], key: str, default, lo, hi, integer: bool):
    text = next((v for k, v in pairs if k == key), None)
    if text is None:
        return default
    expected = f"a number from {lo} to {hi}"
    value = text.strip(WHITE_SPACE)
    if integer:
        ok = UNSIGNED.fullmatch(value) is not None and int(value) <= U32_MAX
    else:
        ok = FLOAT.fullmatch(value) is not None
    if not ok:
        raise Err(f"[policy_config] {key} = {quoted(text)} is not a number; expected {expected}")
    n = int(value) if integer else float(value)
    if not lo <= n <= hi:
        raise Err(f"[policy_config] {key} = {quoted(text)} is out of range; expected {expected}")
    return n


def parse(pairs: List[Tuple[str, str]]) -> Params:
    for i, (key, _) in enumerate(pairs):
        if any(k == key for k, _ in pairs[:i]):
            raise Err(f"[policy_config] key `{key}` is given twice")
    params = Params(
        number(pairs, KEYS[0], 0.1, 0, 1, False),
        number(pairs, KEYS[1], 0.9, 0, 4, False),
        number(pairs, KEYS[2], 2, 1, 255, True),
    )
    for key, _ in pairs:
        if key not in KEYS:
            raise Err(f"[policy_config] key `{key}` is unknown; {NAME} takes: {', '.join(KEYS)}")
    return params


# One order per cache tier: hot, warm (a cold tier's events go to hot's).
ORDERS: List[Optional[S3Fifo]] = [None, None]


def slot(tier: Tier) -> int:
    return 1 if tier == Tier.WARM else 0


def order_of(events: Events) -> S3Fifo:
    """The tier's order with `events` applied (a tier never configured gets
    an order with no budget)."""
    i = slot(events.tier)
    order = ORDERS[i]
    if order is None:
        order = ORDERS[i] = S3Fifo(0, Params())
    order.apply(events)
    return order


class Decisions(exports.Decisions):
    def identity(self) -> PolicyIdentity:
        return PolicyIdentity(NAME, VERSION)

    def configure(self, config: List[Tuple[str, str]], capacities: List[Capacity]) -> None:
        params = parse(config)
        built: List[Optional[S3Fifo]] = [None, None]
        for capacity in capacities:
            built[slot(capacity.tier)] = S3Fifo(capacity.max_bytes, params)
        ORDERS[:] = built

    def place(self, write: WriteInfo) -> Placement:
        return Placement(TierSet.HOT | TierSet.WARM, write.requested_ttl_ms, 0)

    def promote(self, read: ReadInfo) -> TierSet:
        if read.served_by == Tier.COLD:
            return TierSet.HOT | TierSet.WARM
        if read.served_by == Tier.WARM:
            return TierSet.HOT
        return TierSet(0)


class Eviction(exports.Eviction):
    def observe(self, events: Events) -> None:
        order_of(events)

    def admit(self, events: Events, arrival: Arrival, need_bytes: int) -> Admission:
        victims = order_of(events).admit(arrival.id, arrival.size, need_bytes)
        return Admission_Refuse() if victims is None else Admission_Admit(victims)

    def evict(self, events: Events, need_bytes: int) -> List[int]:
        return order_of(events).evict(need_bytes)

    def residents(self, events: Events) -> int:
        return len(order_of(events))

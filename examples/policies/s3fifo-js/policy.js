// S3-FIFO as an ordered policy, in JavaScript (jco componentize,
// StarlingMonkey engine).
//
// J. Yang, Y. Zhang, Z. Qiu, Y. Yue, K. V. Rashmi, "FIFO queues are all you
// need for cache eviction", SOSP 2023, as libCacheSim's S3FIFO.c runs it. The
// same answers, call by call, as the library's Rust version
// (../algorithms/s3fifo) and the Python and C versions beside this folder
// (../README.md, "S3-FIFO in four languages", is the shared spec):
//
// - small (small-size-ratio of the cache, default 0.1) takes new objects;
//   evicted from it, an object read move-to-main-threshold times (default 2)
//   moves to main, any other leaves and its id goes to the ghost;
// - main (the rest) is a CLOCK with a 2-bit count;
// - ghost (ghost-size-ratio of the cache, default 0.9, counted with the
//   objects' sizes) remembers ids evicted from small: an arrival found there
//   enters main.
//
// Every budget is a whole number of libCacheSim's bytes: while every object
// seen has had one size, that size (one object of a unit-size trace), else 1.
//
// Ids are 64-bit hashes, so every WIT u64 is a BigInt here (the
// StarlingMonkey engine passes them so; the QuickJS backend would round ids
// above 2^53 to the nearest double). A list<u64> arrives as, and must be
// returned as, a BigUint64Array (componentize-js 0.19.3 copies the typed
// array's bytes; a plain Array would be read as garbage).
//
// Around the order, the component does what the Rust kit's does: every
// cache tier on a write with the writer's TTL, a copy in every tier above
// the one that served a read, one order per tier, the parameters checked
// with the kit's messages (a rejection is a thrown string).

const NAME = 's3fifo';
const VERSION = '0.1.0+js';
const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffffffff;

// Event kinds (wit/policy.wit, record `events`).
const HIT = 0;
const ARRIVAL = 1;
const REMOVAL = 2;
const HOST_EVICTION = 3;

// A number as an unsigned 64-bit integer, truncated and saturated.
function toU64(x) {
  if (!(x > 0)) return 0n;
  return x >= 18446744073709551616 ? U64_MAX : BigInt(Math.trunc(x));
}

function saturatingMul(a, b) {
  const product = a * b;
  return product > U64_MAX ? U64_MAX : product;
}

// libCacheSim's "one byte": the size every object seen so far shares, else 1.
class SizeUnit {
  constructor() {
    this.common = null;
    this.mixed = false;
  }

  // Whether the unit may have changed.
  observe(size) {
    if (this.common === null && !this.mixed) {
      this.common = size;
      return true;
    }
    if (this.common !== null && this.common !== size) {
      this.common = null;
      this.mixed = true;
      return true;
    }
    return false;
  }

  bytes() {
    return this.common !== null && this.common > 0n ? this.common : 1n;
  }
}

// Objects keyed by id, a doubly linked list from the newest to the oldest,
// each node with its size and a count.
class Fifo {
  constructor() {
    this.nodes = new Map();
    this.newest = null;
    this.oldest = null;
    this.bytes = 0n;
  }

  get length() {
    return this.nodes.size;
  }

  has(id) {
    return this.nodes.has(id);
  }

  get(id) {
    return this.nodes.get(id);
  }

  // Enters `id` as the newest (an entry already held is replaced).
  push(id, size, count = 0) {
    this.remove(id);
    const node = { id, size, count, newer: null, older: this.newest };
    if (this.newest !== null) this.newest.newer = node;
    else this.oldest = node;
    this.newest = node;
    this.nodes.set(id, node);
    this.bytes += size;
  }

  remove(id) {
    const node = this.nodes.get(id);
    if (node === undefined) return false;
    this.unlink(node);
    return true;
  }

  popOldest() {
    const node = this.oldest;
    this.unlink(node);
    return node;
  }

  unlink(node) {
    if (node.newer !== null) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older !== null) node.older.newer = node.newer;
    else this.oldest = node.newer;
    this.nodes.delete(node.id);
    this.bytes -= node.size;
  }
}

const DEFAULTS = { smallRatio: 0.1, ghostRatio: 0.9, threshold: 2 };

// The S3-FIFO order of one cache tier.
class S3Fifo {
  constructor(capacity, params) {
    this.capacity = capacity;
    this.params = params;
    this.unit = new SizeUnit();
    this.small = new Fifo(); // counts: reads since the object entered
    this.main = new Fifo(); // counts: the 2-bit CLOCK count
    this.ghost = new Fifo(); // ids evicted from small, with their sizes
    this.hasEvicted = false;
    this.setBudgets();
  }

  setBudgets() {
    const unit = this.unit.bytes();
    const units = Number(this.capacity / unit);
    this.smallBytes = saturatingMul(unit, toU64(units * this.params.smallRatio));
    this.mainBytes = this.capacity > this.smallBytes ? this.capacity - this.smallBytes : 0n;
    this.ghostBytes = saturatingMul(unit, toU64(units * this.params.ghostRatio));
  }

  observe(size) {
    if (this.unit.observe(size)) this.setBudgets();
  }

  get length() {
    return this.small.length + this.main.length;
  }

  forgetResident(id) {
    if (!this.small.remove(id)) this.main.remove(id);
  }

  // Into main when the ghost remembered it, or when small is full and
  // nothing was evicted yet; else into small.
  enqueue(id, size, fromGhost) {
    if (fromGhost || (!this.hasEvicted && this.small.bytes >= this.smallBytes)) this.main.push(id, size);
    else this.small.push(id, size);
  }

  remember(id, size) {
    if (this.ghostBytes === 0n || size > this.ghostBytes || this.ghost.has(id)) return;
    while (this.ghost.bytes + size > this.ghostBytes) this.ghost.popOldest();
    this.ghost.push(id, size);
  }

  evictSmall() {
    while (this.small.length > 0) {
      const { id, size, count } = this.small.popOldest();
      if (count >= this.params.threshold) {
        this.main.push(id, size);
      } else {
        this.remember(id, size);
        return { id, size };
      }
    }
    return null;
  }

  evictMain() {
    while (this.main.length > 0) {
      const { id, size, count } = this.main.popOldest();
      if (count >= 1) this.main.push(id, size, Math.min(count, 3) - 1);
      else return { id, size };
    }
    return null;
  }

  evictOne() {
    this.hasEvicted = true;
    while (this.length > 0) {
      const fromMain = this.main.bytes > this.mainBytes || this.small.length === 0;
      const victim = fromMain ? this.evictMain() : this.evictSmall();
      if (victim !== null) return victim;
    }
    return null;
  }

  evict(need) {
    const victims = [];
    let freed = 0n;
    while (freed < need) {
      const victim = this.evictOne();
      if (victim === null) break;
      victims.push(victim.id);
      freed += victim.size;
    }
    return victims;
  }

  hit(id) {
    const node = this.small.get(id) ?? this.main.get(id);
    if (node !== undefined) node.count = Math.min(node.count + 1, U32_MAX);
  }

  insert(id, size) {
    this.observe(size);
    this.enqueue(id, size, this.ghost.remove(id));
  }

  // Held whatever its size: the host already placed it.
  arrive(id, size) {
    this.forgetResident(id);
    this.insert(id, size);
  }

  // libCacheSim's removal: from small, else from the ghost, else main.
  remove(id) {
    if (!this.small.remove(id) && !this.ghost.remove(id)) this.main.remove(id);
  }

  apply(events) {
    const n = Math.min(events.kind.length, events.id.length, events.size.length);
    for (let i = 0; i < n; i++) {
      const id = BigInt(events.id[i]);
      switch (events.kind[i]) {
        case HIT:
          this.hit(id);
          break;
        case ARRIVAL:
          this.arrive(id, BigInt(events.size[i]));
          break;
        case REMOVAL:
        case HOST_EVICTION:
          this.remove(id);
          break;
        default:
          break;
      }
    }
  }

  // The victims to evict before `id` enters, or null: refused.
  admit(id, size, need) {
    this.observe(size);
    this.forgetResident(id);
    const fromGhost = this.ghost.remove(id);
    if (size > this.smallBytes || (size === this.smallBytes && !fromGhost)) return null;
    const victims = this.evict(need);
    this.enqueue(id, size, fromGhost);
    return victims;
  }
}

// Parameters, parsed as the Rust kit parses them (`text.trim().parse()`)
// and rejected with its messages.

const TRIM = /^[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
const FLOAT = /^[+-]?(inf|infinity|nan|([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)$/i;
const UNSIGNED = /^\+?[0-9]+$/;
const ESCAPES = { '\0': '\\0', '\t': '\\t', '\r': '\\r', '\n': '\\n', '\\': '\\\\', '"': '\\"' };
const KEYS = ['small-size-ratio', 'ghost-size-ratio', 'move-to-main-threshold'];

// `text` in double quotes with Rust's escapes.
function quoted(text) {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0);
    if (ESCAPES[ch] !== undefined) out += ESCAPES[ch];
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

// A float literal's value (the words are Rust's: inf, infinity, nan).
function floatValue(value) {
  const word = value.replace(/^[+-]/, '').toLowerCase();
  if (word === 'nan') return NaN;
  if (word === 'inf' || word === 'infinity') return value.startsWith('-') ? -Infinity : Infinity;
  return Number(value);
}

function number(pairs, key, fallback, lo, hi, integer) {
  const pair = pairs.find(([k]) => k === key);
  if (pair === undefined) return fallback;
  const text = pair[1];
  const expected = `a number from ${lo} to ${hi}`;
  const value = text.replace(TRIM, '');
  const ok = integer ? UNSIGNED.test(value) && Number(value) <= U32_MAX : FLOAT.test(value);
  if (!ok) throw `[policy_config] ${key} = ${quoted(text)} is not a number; expected ${expected}`;
  const n = integer ? Number(value) : floatValue(value);
  if (!(n >= lo && n <= hi)) throw `[policy_config] ${key} = ${quoted(text)} is out of range; expected ${expected}`;
  return n;
}

function parse(pairs) {
  pairs.forEach(([key], i) => {
    if (pairs.slice(0, i).some(([k]) => k === key)) throw `[policy_config] key \`${key}\` is given twice`;
  });
  const params = {
    smallRatio: number(pairs, KEYS[0], 0.1, 0, 1, false),
    ghostRatio: number(pairs, KEYS[1], 0.9, 0, 4, false),
    threshold: number(pairs, KEYS[2], 2, 1, 255, true),
  };
  for (const [key] of pairs) {
    if (!KEYS.includes(key)) throw `[policy_config] key \`${key}\` is unknown; ${NAME} takes: ${KEYS.join(', ')}`;
  }
  return params;
}

// One order per cache tier: hot, warm (a cold tier's events go to hot's).
let orders = [null, null];

function slot(tier) {
  return tier === 'warm' ? 1 : 0;
}

// The tier's order with the events applied (a tier never configured gets an
// order with no budget).
function orderOf(events) {
  const i = slot(events.tier);
  if (orders[i] === null) orders[i] = new S3Fifo(0n, DEFAULTS);
  orders[i].apply(events);
  return orders[i];
}

export const decisions = {
  identity() {
    return { name: NAME, version: VERSION };
  },

  configure(pairs, capacities) {
    const params = parse(pairs);
    const built = [null, null];
    for (const capacity of capacities) built[slot(capacity.tier)] = new S3Fifo(BigInt(capacity.maxBytes), params);
    orders = built;
  },

  place(write) {
    return { tiers: { hot: true, warm: true }, ttlMs: write.requestedTtlMs, class: 0 };
  },

  promote(read) {
    if (read.servedBy === 'cold') return { hot: true, warm: true };
    if (read.servedBy === 'warm') return { hot: true, warm: false };
    return { hot: false, warm: false };
  },
};

export const eviction = {
  observe(events) {
    orderOf(events);
  },

  admit(events, arrival, needBytes) {
    const victims = orderOf(events).admit(BigInt(arrival.id), BigInt(arrival.size), BigInt(needBytes));
    return victims === null ? { tag: 'refuse' } : { tag: 'admit', val: BigUint64Array.from(victims) };
  },

  evict(events, needBytes) {
    return BigUint64Array.from(orderOf(events).evict(BigInt(needBytes)));
  },

  residents(events) {
    return BigInt(orderOf(events).length);
  },
};

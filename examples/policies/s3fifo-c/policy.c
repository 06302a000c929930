// S3-FIFO as an ordered policy, in C (wit-bindgen c, clang, wasi-libc).
//
// J. Yang, Y. Zhang, Z. Qiu, Y. Yue, K. V. Rashmi, "FIFO queues are all you
// need for cache eviction", SOSP 2023, as libCacheSim's S3FIFO.c runs it. The
// same answers, call by call, as the library's Rust version
// (../algorithms/s3fifo) and the Python and JavaScript versions beside this
// folder (../README.md, "S3-FIFO in four languages", is the shared spec):
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
// The three queues are doubly linked lists of nodes in one pool, and one
// hash table finds a node by id: an id is in at most one queue (a resident
// is never in the ghost). Around the order, the component does what the Rust
// kit's does: every cache tier on a write with the writer's TTL, a copy in
// every tier above the one that served a read, one order per tier, the
// parameters checked with the kit's messages.
//
// Ownership (wit-bindgen's C convention): each export frees its arguments;
// results are malloc'ed and freed by the generated post-return functions.
// The component calls no WASI function (no stdio: messages are built by
// hand), so it needs no adapter.

#include <stdlib.h>
#include <string.h>

#include "ordered_policy.h"

typedef ordered_policy_string_t string_t;

enum { HIT = 0, ARRIVAL = 1, REMOVAL = 2, HOST_EVICTION = 3 };

#define NIL UINT32_MAX
#define U32_MAX 0xffffffffu

// ---------------------------------------------------------------------------
// libCacheSim's "one byte": the size every object seen so far shares, else 1.

typedef struct {
  uint64_t common;
  bool has_common, mixed;
} size_unit_t;

static void unit_observe(size_unit_t *u, uint64_t size) {
  if (!u->has_common && !u->mixed) {
    u->common = size;
    u->has_common = true;
  } else if (u->has_common && u->common != size) {
    u->has_common = false;
    u->mixed = true;
  }
}

static uint64_t unit_bytes(const size_unit_t *u) { return u->has_common && u->common > 0 ? u->common : 1; }

// ---------------------------------------------------------------------------
// Nodes, queues and the id table.

enum { SMALL = 0, MAIN = 1, GHOST = 2 };

typedef struct {
  uint64_t id, size;
  // Small: reads since the object entered; main: its 2-bit CLOCK count.
  uint32_t count;
  // Toward the newest, toward the oldest (NIL at the ends); `older` links
  // the free nodes.
  uint32_t newer, older;
  uint8_t queue;
} node_t;

typedef struct {
  uint32_t newest, oldest, len;
  uint64_t bytes;
} fifo_t;

typedef struct {
  uint64_t capacity;
  double small_ratio, ghost_ratio;
  uint32_t threshold;
  size_unit_t unit;
  uint64_t small_bytes, main_bytes, ghost_bytes;
  fifo_t q[3];
  bool has_evicted;
  node_t *nodes;
  uint32_t n_nodes, cap_nodes, free_nodes;
  // Open addressing, linear probing: node indices, NIL for an empty slot.
  uint32_t *slots;
  uint32_t n_slots, used;
} order_t;

static uint32_t home(const order_t *o, uint64_t id) {
  return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (o->n_slots - 1);
}

// The slot holding `id`, or the empty slot where it would go.
static uint32_t probe(const order_t *o, uint64_t id) {
  uint32_t i = home(o, id);
  while (o->slots[i] != NIL && o->nodes[o->slots[i]].id != id) i = (i + 1) & (o->n_slots - 1);
  return i;
}

static void table_grow(order_t *o) {
  uint32_t *old = o->slots, n_old = o->n_slots;
  o->n_slots = n_old ? n_old * 2 : 64;
  o->slots = malloc(sizeof(uint32_t) * o->n_slots);
  memset(o->slots, 0xff, sizeof(uint32_t) * o->n_slots);
  for (uint32_t i = 0; i < n_old; i++)
    if (old[i] != NIL) o->slots[probe(o, o->nodes[old[i]].id)] = old[i];
  free(old);
}

// Frees slot `i`, moving later entries of its run back (no tombstones).
static void table_clear(order_t *o, uint32_t i) {
  uint32_t mask = o->n_slots - 1, j = i;
  o->slots[i] = NIL;
  for (;;) {
    j = (j + 1) & mask;
    if (o->slots[j] == NIL) break;
    uint32_t h = home(o, o->nodes[o->slots[j]].id);
    // Entry j may move to the hole at i unless its home lies in (i, j].
    bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (!stays) {
      o->slots[i] = o->slots[j];
      o->slots[j] = NIL;
      i = j;
    }
  }
  o->used--;
}

// The node of `id` in queue `q`, or NIL.
static uint32_t find(const order_t *o, int q, uint64_t id) {
  if (o->n_slots == 0) return NIL;
  uint32_t n = o->slots[probe(o, id)];
  return n != NIL && o->nodes[n].queue == q ? n : NIL;
}

static void unlink_node(order_t *o, uint32_t n) {
  node_t *node = &o->nodes[n];
  fifo_t *f = &o->q[node->queue];
  if (node->newer != NIL) o->nodes[node->newer].older = node->older;
  else f->newest = node->older;
  if (node->older != NIL) o->nodes[node->older].newer = node->newer;
  else f->oldest = node->newer;
  f->len--;
  f->bytes -= node->size;
}

// Takes node `n` out of its queue and the table, and frees it.
static void drop_node(order_t *o, uint32_t n) {
  unlink_node(o, n);
  table_clear(o, probe(o, o->nodes[n].id));
  o->nodes[n].older = o->free_nodes;
  o->free_nodes = n;
}

// Removes `id` from queue `q`; whether it was there.
static bool fifo_remove(order_t *o, int q, uint64_t id) {
  uint32_t n = find(o, q, id);
  if (n == NIL) return false;
  drop_node(o, n);
  return true;
}

// Enters `id` as the newest of queue `q` (an entry already held is replaced).
static void fifo_push(order_t *o, int q, uint64_t id, uint64_t size, uint32_t count) {
  fifo_remove(o, q, id);
  uint32_t n = o->free_nodes;
  if (n != NIL) {
    o->free_nodes = o->nodes[n].older;
  } else {
    if (o->n_nodes == o->cap_nodes) {
      o->cap_nodes = o->cap_nodes ? o->cap_nodes * 2 : 64;
      o->nodes = realloc(o->nodes, sizeof(node_t) * o->cap_nodes);
    }
    n = o->n_nodes++;
  }
  fifo_t *f = &o->q[q];
  o->nodes[n] = (node_t){.id = id, .size = size, .count = count, .newer = NIL, .older = f->newest, .queue = (uint8_t)q};
  if (f->newest != NIL) o->nodes[f->newest].newer = n;
  else f->oldest = n;
  f->newest = n;
  f->len++;
  f->bytes += size;
  if (2 * (o->used + 1) > o->n_slots) table_grow(o);
  o->slots[probe(o, id)] = n;
  o->used++;
}

// Removes the oldest of queue `q` (which is not empty).
static node_t fifo_pop_oldest(order_t *o, int q) {
  uint32_t n = o->q[q].oldest;
  node_t node = o->nodes[n];
  drop_node(o, n);
  return node;
}

// ---------------------------------------------------------------------------
// S3-FIFO.

static uint64_t saturating_mul(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

// A double as an unsigned 64-bit integer, truncated and saturated.
static uint64_t to_u64(double x) {
  if (!(x > 0)) return 0;
  return x >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)x;
}

static void set_budgets(order_t *o) {
  uint64_t unit = unit_bytes(&o->unit);
  double units = (double)(o->capacity / unit);
  o->small_bytes = saturating_mul(unit, to_u64(units * o->small_ratio));
  o->main_bytes = o->capacity > o->small_bytes ? o->capacity - o->small_bytes : 0;
  o->ghost_bytes = saturating_mul(unit, to_u64(units * o->ghost_ratio));
}

static void observe_size(order_t *o, uint64_t size) {
  unit_observe(&o->unit, size);
  set_budgets(o);
}

typedef struct {
  double small_ratio, ghost_ratio;
  uint32_t threshold;
} params_t;

static order_t *order_new(uint64_t capacity, params_t p) {
  order_t *o = calloc(1, sizeof(order_t));
  o->capacity = capacity;
  o->small_ratio = p.small_ratio;
  o->ghost_ratio = p.ghost_ratio;
  o->threshold = p.threshold;
  for (int q = 0; q < 3; q++) o->q[q] = (fifo_t){NIL, NIL, 0, 0};
  o->free_nodes = NIL;
  set_budgets(o);
  return o;
}

static void order_free(order_t *o) {
  if (o == NULL) return;
  free(o->nodes);
  free(o->slots);
  free(o);
}

static uint64_t order_len(const order_t *o) { return o->q[SMALL].len + o->q[MAIN].len; }

static void forget_resident(order_t *o, uint64_t id) {
  if (!fifo_remove(o, SMALL, id)) fifo_remove(o, MAIN, id);
}

// Into main when the ghost remembered it, or when small is full and nothing
// was evicted yet; else into small.
static void enqueue(order_t *o, uint64_t id, uint64_t size, bool from_ghost) {
  bool to_main = from_ghost || (!o->has_evicted && o->q[SMALL].bytes >= o->small_bytes);
  fifo_push(o, to_main ? MAIN : SMALL, id, size, 0);
}

static void remember(order_t *o, uint64_t id, uint64_t size) {
  if (o->ghost_bytes == 0 || size > o->ghost_bytes || find(o, GHOST, id) != NIL) return;
  while (o->q[GHOST].bytes + size > o->ghost_bytes) fifo_pop_oldest(o, GHOST);
  fifo_push(o, GHOST, id, size, 0);
}

// An eviction's victim; `found` is false when the queue ran dry.
typedef struct {
  bool found;
  uint64_t id, size;
} victim_t;

static victim_t evict_small(order_t *o) {
  while (o->q[SMALL].len > 0) {
    node_t n = fifo_pop_oldest(o, SMALL);
    if (n.count >= o->threshold) {
      fifo_push(o, MAIN, n.id, n.size, 0);
    } else {
      remember(o, n.id, n.size);
      return (victim_t){true, n.id, n.size};
    }
  }
  return (victim_t){false, 0, 0};
}

static victim_t evict_main(order_t *o) {
  while (o->q[MAIN].len > 0) {
    node_t n = fifo_pop_oldest(o, MAIN);
    if (n.count >= 1) {
      fifo_push(o, MAIN, n.id, n.size, (n.count < 3 ? n.count : 3) - 1);
    } else {
      return (victim_t){true, n.id, n.size};
    }
  }
  return (victim_t){false, 0, 0};
}

static victim_t evict_one(order_t *o) {
  o->has_evicted = true;
  while (order_len(o) > 0) {
    bool from_main = o->q[MAIN].bytes > o->main_bytes || o->q[SMALL].len == 0;
    victim_t v = from_main ? evict_main(o) : evict_small(o);
    if (v.found) return v;
  }
  return (victim_t){false, 0, 0};
}

// Victims freeing at least `need` bytes (fewer if the order runs dry), into
// a malloc'ed list.
static void evict(order_t *o, uint64_t need, ordered_policy_list_u64_t *out) {
  size_t cap = 0;
  uint64_t freed = 0;
  out->ptr = NULL;
  out->len = 0;
  while (freed < need) {
    victim_t v = evict_one(o);
    if (!v.found) break;
    if (out->len == cap) {
      cap = cap ? cap * 2 : 8;
      out->ptr = realloc(out->ptr, sizeof(uint64_t) * cap);
    }
    out->ptr[out->len++] = v.id;
    freed += v.size;
  }
}

static void hit(order_t *o, uint64_t id) {
  uint32_t n = find(o, SMALL, id);
  if (n == NIL) n = find(o, MAIN, id);
  if (n != NIL && o->nodes[n].count < U32_MAX) o->nodes[n].count++;
}

static void insert(order_t *o, uint64_t id, uint64_t size) {
  observe_size(o, size);
  bool from_ghost = fifo_remove(o, GHOST, id);
  enqueue(o, id, size, from_ghost);
}

// Held whatever its size: the host already placed it.
static void arrive(order_t *o, uint64_t id, uint64_t size) {
  forget_resident(o, id);
  insert(o, id, size);
}

// libCacheSim's removal: from small, else from the ghost, else main.
static void remove_id(order_t *o, uint64_t id) {
  if (!fifo_remove(o, SMALL, id) && !fifo_remove(o, GHOST, id)) fifo_remove(o, MAIN, id);
}

// ---------------------------------------------------------------------------
// Parameters, parsed as the Rust kit parses them (`text.trim().parse()`) and
// rejected with its messages.

// A growing message (stdio would pull in WASI imports).
typedef struct {
  char *buf;
  size_t len, cap;
} text_t;

static void put(text_t *t, const char *s, size_t n) {
  if (t->len + n > t->cap) {
    t->cap = (t->len + n) * 2 + 64;
    t->buf = realloc(t->buf, t->cap);
  }
  memcpy(t->buf + t->len, s, n);
  t->len += n;
}

static void put_str(text_t *t, const char *s) { put(t, s, strlen(s)); }

static void put_wit(text_t *t, const string_t *s) { put(t, (const char *)s->ptr, s->len); }

// `s` in double quotes with Rust's escapes.
static void put_quoted(text_t *t, const string_t *s) {
  static const char hex[] = "0123456789abcdef";
  put_str(t, "\"");
  for (size_t i = 0; i < s->len; i++) {
    uint8_t c = s->ptr[i];
    uint32_t control = NIL;
    if (c == 0) put_str(t, "\\0");
    else if (c == '\t') put_str(t, "\\t");
    else if (c == '\r') put_str(t, "\\r");
    else if (c == '\n') put_str(t, "\\n");
    else if (c == '\\') put_str(t, "\\\\");
    else if (c == '"') put_str(t, "\\\"");
    else if (c < 0x20 || c == 0x7f) control = c;
    else if (c == 0xc2 && i + 1 < s->len && s->ptr[i + 1] >= 0x80 && s->ptr[i + 1] <= 0x9f) control = s->ptr[++i];
    else put(t, (const char *)&c, 1);
    if (control != NIL) {
      char u[8] = {'\\', 'u', '{'};
      size_t n = 3;
      if (control >= 0x10) u[n++] = hex[control >> 4];
      u[n++] = hex[control & 15];
      u[n++] = '}';
      put(t, u, n);
    }
  }
  put_str(t, "\"");
}

static bool fail(string_t *err, text_t *t) {
  ordered_policy_string_dup_n(err, t->buf, t->len);
  free(t->buf);
  return false;
}

static bool equal(const string_t *a, const string_t *b) {
  return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

static bool is_key(const string_t *s, const char *lit) {
  size_t n = strlen(lit);
  return s->len == n && memcmp(s->ptr, lit, n) == 0;
}

// The length of the White_Space character at the start of `p` (0: none).
static size_t space_at(const uint8_t *p, size_t n) {
  if (n >= 1 && ((p[0] >= 0x09 && p[0] <= 0x0d) || p[0] == ' ')) return 1;
  if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0)) return 2;
  if (n >= 3 && p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) return 3;                 // U+1680
  if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
    return 3;                                                                               // U+2000..200A, 2028, 2029, 202F
  if (n >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) return 3;                 // U+205F
  if (n >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) return 3;                 // U+3000
  return 0;
}

// The length of the White_Space character ending at `p + n` (0: none).
static size_t space_before(const uint8_t *p, size_t n) {
  for (size_t k = 1; k <= 3 && k <= n; k++)
    if (space_at(p + n - k, k) == k) return k;
  return 0;
}

static string_t trim(const string_t *s) {
  string_t t = *s;
  size_t k;
  while ((k = space_at(t.ptr, t.len)) > 0) {
    t.ptr += k;
    t.len -= k;
  }
  while ((k = space_before(t.ptr, t.len)) > 0) t.len -= k;
  return t;
}

static bool digit(uint8_t c) { return c >= '0' && c <= '9'; }

static bool word(const uint8_t *p, size_t n, const char *w) {
  if (n != strlen(w)) return false;
  for (size_t i = 0; i < n; i++)
    if ((p[i] | 0x20) != (uint8_t)w[i]) return false;
  return true;
}

// Rust's f64 grammar: sign? (inf | infinity | nan | digits) with digits
// `d+ | d+ . d* | d* . d+`, then `e sign? d+`. Sets *value (NaN and the
// infinities included).
static bool parse_f64(string_t s, double *value) {
  const uint8_t *p = s.ptr;
  size_t n = s.len, i = 0;
  bool negative = n > 0 && p[0] == '-';
  if (n > 0 && (p[0] == '+' || p[0] == '-')) i = 1;
  if (word(p + i, n - i, "inf") || word(p + i, n - i, "infinity")) {
    *value = negative ? -__builtin_inf() : __builtin_inf();
    return true;
  }
  if (word(p + i, n - i, "nan")) {
    *value = __builtin_nan("");
    return true;
  }
  size_t whole = 0, fraction = 0;
  while (i < n && digit(p[i])) i++, whole++;
  if (i < n && p[i] == '.') {
    i++;
    while (i < n && digit(p[i])) i++, fraction++;
  }
  if (whole + fraction == 0) return false;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    if (i < n && (p[i] == '+' || p[i] == '-')) i++;
    size_t exponent = 0;
    while (i < n && digit(p[i])) i++, exponent++;
    if (exponent == 0) return false;
  }
  if (i != n) return false;
  char *copy = malloc(n + 1);
  memcpy(copy, p, n);
  copy[n] = 0;
  *value = strtod(copy, NULL);
  free(copy);
  return true;
}

// Rust's u32 grammar: `+? d+`, at most 4294967295.
static bool parse_u32(string_t s, uint32_t *value) {
  size_t i = s.len > 0 && s.ptr[0] == '+' ? 1 : 0;
  if (i == s.len) return false;
  uint64_t v = 0;
  for (; i < s.len; i++) {
    if (!digit(s.ptr[i])) return false;
    v = v * 10 + (s.ptr[i] - '0');
    if (v > U32_MAX) return false;
  }
  *value = (uint32_t)v;
  return true;
}

static const char *const KEYS[3] = {"small-size-ratio", "ghost-size-ratio", "move-to-main-threshold"};
static const char *const EXPECTED[3] = {"a number from 0 to 1", "a number from 0 to 4", "a number from 1 to 255"};

// Parameter `k` (0, 1, 2) from the pairs, if given; false and the message
// when it does not parse or is out of range.
static bool param(const ordered_policy_list_tuple2_string_string_t *pairs, int k, params_t *p, string_t *err) {
  for (size_t i = 0; i < pairs->len; i++) {
    if (!is_key(&pairs->ptr[i].f0, KEYS[k])) continue;
    const string_t *text = &pairs->ptr[i].f1;
    string_t value = trim(text);
    double x = 0;
    uint32_t u = 0;
    bool parsed = k == 2 ? parse_u32(value, &u) : parse_f64(value, &x);
    bool in_range = k == 0 ? (x >= 0 && x <= 1) : k == 1 ? (x >= 0 && x <= 4) : (u >= 1 && u <= 255);
    if (!parsed || !in_range) {
      text_t t = {0};
      put_str(&t, "[policy_config] ");
      put_str(&t, KEYS[k]);
      put_str(&t, " = ");
      put_quoted(&t, text);
      put_str(&t, parsed ? " is out of range; expected " : " is not a number; expected ");
      put_str(&t, EXPECTED[k]);
      return fail(err, &t);
    }
    if (k == 0) p->small_ratio = x;
    if (k == 1) p->ghost_ratio = x;
    if (k == 2) p->threshold = u;
    return true;
  }
  return true;
}

static bool parse(const ordered_policy_list_tuple2_string_string_t *pairs, params_t *p, string_t *err) {
  for (size_t i = 0; i < pairs->len; i++)
    for (size_t j = 0; j < i; j++)
      if (equal(&pairs->ptr[j].f0, &pairs->ptr[i].f0)) {
        text_t t = {0};
        put_str(&t, "[policy_config] key `");
        put_wit(&t, &pairs->ptr[i].f0);
        put_str(&t, "` is given twice");
        return fail(err, &t);
      }
  *p = (params_t){0.1, 0.9, 2};
  for (int k = 0; k < 3; k++)
    if (!param(pairs, k, p, err)) return false;
  for (size_t i = 0; i < pairs->len; i++) {
    const string_t *key = &pairs->ptr[i].f0;
    if (is_key(key, KEYS[0]) || is_key(key, KEYS[1]) || is_key(key, KEYS[2])) continue;
    text_t t = {0};
    put_str(&t, "[policy_config] key `");
    put_wit(&t, key);
    put_str(&t, "` is unknown; s3fifo takes: small-size-ratio, ghost-size-ratio, move-to-main-threshold");
    return fail(err, &t);
  }
  return true;
}

// ---------------------------------------------------------------------------
// The component.

// One order per cache tier: hot, warm (a cold tier's events go to hot's).
static order_t *ORDERS[2];

static int slot(tiered_policy_types_tier_t tier) { return tier == TIERED_POLICY_TYPES_TIER_WARM ? 1 : 0; }

// The tier's order with the events applied (a tier never configured gets an
// order with no budget); frees the events.
static order_t *order_of(tiered_policy_types_events_t *events) {
  int i = slot(events->tier);
  if (ORDERS[i] == NULL) ORDERS[i] = order_new(0, (params_t){0.1, 0.9, 2});
  order_t *o = ORDERS[i];
  size_t n = events->kind.len;
  if (events->id.len < n) n = events->id.len;
  if (events->size.len < n) n = events->size.len;
  for (size_t e = 0; e < n; e++) {
    uint64_t id = events->id.ptr[e];
    switch (events->kind.ptr[e]) {
      case HIT: hit(o, id); break;
      case ARRIVAL: arrive(o, id, events->size.ptr[e]); break;
      case REMOVAL:
      case HOST_EVICTION: remove_id(o, id); break;
      default: break;
    }
  }
  tiered_policy_types_events_free(events);
  return o;
}

void exports_tiered_policy_decisions_identity(exports_tiered_policy_decisions_policy_identity_t *ret) {
  ordered_policy_string_dup(&ret->name, "s3fifo");
  ordered_policy_string_dup(&ret->version, "0.1.0+c");
}

bool exports_tiered_policy_decisions_configure(ordered_policy_list_tuple2_string_string_t *config,
                                               exports_tiered_policy_decisions_list_capacity_t *capacities,
                                               string_t *err) {
  params_t p;
  bool ok = parse(config, &p, err);
  if (ok) {
    order_t *built[2] = {NULL, NULL};
    for (size_t i = 0; i < capacities->len; i++) {
      int s = slot(capacities->ptr[i].tier);
      order_free(built[s]);
      built[s] = order_new(capacities->ptr[i].max_bytes, p);
    }
    for (int s = 0; s < 2; s++) {
      order_free(ORDERS[s]);
      ORDERS[s] = built[s];
    }
  }
  ordered_policy_list_tuple2_string_string_free(config);
  exports_tiered_policy_decisions_list_capacity_free(capacities);
  return ok;
}

void exports_tiered_policy_decisions_place(exports_tiered_policy_decisions_write_info_t *write,
                                           exports_tiered_policy_decisions_placement_t *ret) {
  ret->tiers = TIERED_POLICY_TYPES_TIER_SET_HOT | TIERED_POLICY_TYPES_TIER_SET_WARM;
  ret->ttl_ms = write->requested_ttl_ms;
  ret->class_ = 0;
}

exports_tiered_policy_decisions_tier_set_t exports_tiered_policy_decisions_promote(
    exports_tiered_policy_decisions_read_info_t *read) {
  switch (read->served_by) {
    case TIERED_POLICY_TYPES_TIER_COLD: return TIERED_POLICY_TYPES_TIER_SET_HOT | TIERED_POLICY_TYPES_TIER_SET_WARM;
    case TIERED_POLICY_TYPES_TIER_WARM: return TIERED_POLICY_TYPES_TIER_SET_HOT;
    default: return 0;
  }
}

void exports_tiered_policy_eviction_observe(exports_tiered_policy_eviction_events_t *events) { order_of(events); }

void exports_tiered_policy_eviction_admit(exports_tiered_policy_eviction_events_t *events,
                                          exports_tiered_policy_eviction_arrival_t *arrival, uint64_t need_bytes,
                                          exports_tiered_policy_eviction_admission_t *ret) {
  order_t *o = order_of(events);
  uint64_t id = arrival->id, size = arrival->size;
  observe_size(o, size);
  forget_resident(o, id);
  bool from_ghost = fifo_remove(o, GHOST, id);
  if (size > o->small_bytes || (size == o->small_bytes && !from_ghost)) {
    ret->tag = TIERED_POLICY_TYPES_ADMISSION_REFUSE;
    return;
  }
  ret->tag = TIERED_POLICY_TYPES_ADMISSION_ADMIT;
  evict(o, need_bytes, &ret->val.admit);
  enqueue(o, id, size, from_ghost);
}

void exports_tiered_policy_eviction_evict(exports_tiered_policy_eviction_events_t *events, uint64_t need_bytes,
                                          ordered_policy_list_u64_t *ret) {
  evict(order_of(events), need_bytes, ret);
}

uint64_t exports_tiered_policy_eviction_residents(exports_tiered_policy_eviction_events_t *events) {
  return order_len(order_of(events));
}

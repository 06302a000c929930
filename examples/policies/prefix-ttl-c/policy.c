// The prefix-TTL example policy, in C (wit-bindgen c, clang, wasi-libc).
//
// The same decisions as ../prefix-ttl-rust, ../prefix-ttl-python and
// ../prefix-ttl-js (../README.md is the shared spec): TTL by the longest
// matching key prefix from the configuration, memory for objects that fit,
// disk unless the object lives a minute or less, memory on promotion only
// from the second read. It keeps no eviction order (world `policy`): the
// host's CLOCK evicts for it.
//
// Ownership (wit-bindgen's C convention): the arguments of an export belong
// to the callee, which frees them; results are allocated with malloc and freed
// by the generated post-return functions. The component calls no WASI
// function, so it needs no adapter: log through the host's `log` import.

#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define MINUTE_MS 60000u
#define MAX_TTL_SECONDS 999999999ull
#define MAX_BYTES 999999999999999ull

typedef struct {
  char *prefix;
  size_t len;
  policy_option_u64_t ttl_ms;
} rule_t;

typedef struct {
  rule_t *rules;
  size_t n_rules;
  policy_option_u64_t default_ttl_ms;
  uint64_t hot_max_object_bytes;
  bool hot_enabled, warm_enabled;
} config_t;

static config_t CONFIG = {NULL, 0, {false, 0}, 1u << 20, false, false};

static void config_free(config_t *cfg) {
  for (size_t i = 0; i < cfg->n_rules; i++) free(cfg->rules[i].prefix);
  free(cfg->rules);
  cfg->rules = NULL;
  cfg->n_rules = 0;
}

static bool str_eq(const policy_string_t *s, const char *lit) {
  size_t n = strlen(lit);
  return s->len == n && memcmp(s->ptr, lit, n) == 0;
}

static bool starts_with(const policy_string_t *s, const char *prefix, size_t n) {
  return s->len >= n && memcmp(s->ptr, prefix, n) == 0;
}

// A message under construction. Messages are built by hand rather than with
// snprintf: stdio would pull in WASI imports (fd_write, fd_close...).
typedef struct {
  char buf[512];
  size_t len;
} text_t;

static void put(text_t *t, const char *s, size_t n) {
  if (n > sizeof t->buf - t->len) n = sizeof t->buf - t->len;
  memcpy(t->buf + t->len, s, n);
  t->len += n;
}

static void put_str(text_t *t, const char *s) { put(t, s, strlen(s)); }

static void put_wit(text_t *t, const policy_string_t *s) { put(t, (const char *)s->ptr, s->len > 200 ? 200 : s->len); }

static void put_u64(text_t *t, uint64_t n) {
  char digits[20];
  size_t i = sizeof digits;
  do {
    digits[--i] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  put(t, digits + i, sizeof digits - i);
}

// Moves the message into `err` (malloc'ed, freed by the post-return); false.
static bool fail(policy_string_t *err, const text_t *t) {
  policy_string_dup_n(err, t->buf, t->len);
  return false;
}

static bool fail_key(policy_string_t *err, const char *before, const policy_string_t *key, const char *after) {
  text_t t = {.len = 0};
  put_str(&t, before);
  put_wit(&t, key);
  put_str(&t, after);
  return fail(err, &t);
}

// ASCII digits only (at most 15), within lo..=hi.
static bool parse_whole(const policy_string_t *key, const policy_string_t *value, uint64_t lo, uint64_t hi,
                        uint64_t *out, policy_string_t *err) {
  uint64_t n = 0;
  bool ok = value->len > 0 && value->len <= 15;
  for (size_t i = 0; ok && i < value->len; i++) {
    uint8_t c = value->ptr[i];
    ok = c >= '0' && c <= '9';
    n = n * 10 + (uint64_t)(c - '0');
  }
  if (!ok || n < lo || n > hi) {
    text_t t = {.len = 0};
    put_str(&t, "`");
    put_wit(&t, key);
    put_str(&t, "` = `");
    put_wit(&t, value);
    put_str(&t, "`: expected a whole number from ");
    put_u64(&t, lo);
    put_str(&t, " to ");
    put_u64(&t, hi);
    return fail(err, &t);
  }
  *out = n;
  return true;
}

static bool parse_ttl(const policy_string_t *key, const policy_string_t *value, policy_option_u64_t *out,
                      policy_string_t *err) {
  if (str_eq(value, "never")) {
    out->is_some = false;
    out->val = 0;
    return true;
  }
  uint64_t seconds;
  if (!parse_whole(key, value, 1, MAX_TTL_SECONDS, &seconds, err)) return false;
  out->is_some = true;
  out->val = seconds * 1000;
  return true;
}

static bool parse(const policy_list_tuple2_string_string_t *pairs, uint64_t hot, uint64_t warm, config_t *cfg,
                  policy_string_t *err) {
  cfg->rules = calloc(pairs->len ? pairs->len : 1, sizeof(rule_t));
  cfg->hot_enabled = hot > 0;
  cfg->warm_enabled = warm > 0;
  for (size_t i = 0; i < pairs->len; i++) {
    const policy_string_t *key = &pairs->ptr[i].f0, *value = &pairs->ptr[i].f1;
    for (size_t j = 0; j < i; j++)
      if (pairs->ptr[j].f0.len == key->len && memcmp(pairs->ptr[j].f0.ptr, key->ptr, key->len) == 0)
        return fail_key(err, "`", key, "` is set twice");
    if (starts_with(key, "ttl.", 4)) {
      if (key->len == 4)
        return fail_key(err, "`ttl.` needs a prefix after the dot (use `default_ttl` for every key)", &(policy_string_t){0}, "");
      rule_t *rule = &cfg->rules[cfg->n_rules++];
      rule->len = key->len - 4;
      rule->prefix = malloc(rule->len);
      memcpy(rule->prefix, key->ptr + 4, rule->len);
      if (!parse_ttl(key, value, &rule->ttl_ms, err)) return false;
    } else if (str_eq(key, "default_ttl")) {
      if (!parse_ttl(key, value, &cfg->default_ttl_ms, err)) return false;
    } else if (str_eq(key, "hot_max_object_bytes")) {
      if (!parse_whole(key, value, 0, MAX_BYTES, &cfg->hot_max_object_bytes, err)) return false;
    } else {
      return fail_key(err, "unknown key `", key,
                      "` (expected `ttl.<prefix>`, `default_ttl` or `hot_max_object_bytes`)");
    }
  }
  return true;
}

// The TTL of the longest prefix the current object's key starts with, else
// the default. The key is read (from the host, a copy into this component)
// only when there is a prefix rule to match it against.
static policy_option_u64_t rule_ttl(void) {
  if (CONFIG.n_rules == 0) return CONFIG.default_ttl_ms;
  policy_string_t key;
  tiered_policy_current_object_key(&key);
  const rule_t *best = NULL;
  for (size_t i = 0; i < CONFIG.n_rules; i++) {
    const rule_t *r = &CONFIG.rules[i];
    if (starts_with(&key, r->prefix, r->len) && (best == NULL || r->len > best->len)) best = r;
  }
  policy_string_free(&key);
  return best ? best->ttl_ms : CONFIG.default_ttl_ms;
}

static bool fits_hot(uint64_t size) { return CONFIG.hot_enabled && size <= CONFIG.hot_max_object_bytes; }

// The WIT `tier-set` flags of the two booleans.
static tiered_policy_types_tier_set_t tiers(bool hot, bool warm) {
  return (hot ? TIERED_POLICY_TYPES_TIER_SET_HOT : 0) | (warm ? TIERED_POLICY_TYPES_TIER_SET_WARM : 0);
}

void exports_tiered_policy_decisions_identity(exports_tiered_policy_decisions_policy_identity_t *ret) {
  policy_string_dup(&ret->name, "prefix-ttl");
  policy_string_dup(&ret->version, "0.1.0+c");
}

bool exports_tiered_policy_decisions_configure(policy_list_tuple2_string_string_t *config,
                                               exports_tiered_policy_decisions_list_capacity_t *capacities,
                                               policy_string_t *err) {
  uint64_t hot = 0, warm = 0;
  for (size_t i = 0; i < capacities->len; i++) {
    if (capacities->ptr[i].tier == TIERED_POLICY_TYPES_TIER_HOT) hot = capacities->ptr[i].max_bytes;
    if (capacities->ptr[i].tier == TIERED_POLICY_TYPES_TIER_WARM) warm = capacities->ptr[i].max_bytes;
  }
  config_t cfg = {NULL, 0, {false, 0}, 1u << 20, false, false};
  bool ok = parse(config, hot, warm, &cfg, err);
  policy_list_tuple2_string_string_free(config);
  exports_tiered_policy_decisions_list_capacity_free(capacities);
  if (!ok) {
    config_free(&cfg);
    return false;
  }
  text_t line = {.len = 0};
  put_str(&line, "configured: ");
  put_u64(&line, cfg.n_rules);
  put_str(&line, " prefix rule(s), default ttl ");
  if (cfg.default_ttl_ms.is_some) {
    put_u64(&line, cfg.default_ttl_ms.val / 1000);
    put_str(&line, " s");
  } else {
    put_str(&line, "never");
  }
  put_str(&line, ", memory for objects up to ");
  put_u64(&line, cfg.hot_max_object_bytes);
  put_str(&line, " B");
  policy_string_t message = {(uint8_t *)line.buf, line.len};
  tiered_policy_host_log(TIERED_POLICY_HOST_LEVEL_INFO, &message);
  config_free(&CONFIG);
  CONFIG = cfg;
  return true;
}

void exports_tiered_policy_decisions_place(exports_tiered_policy_decisions_write_info_t *write,
                                           exports_tiered_policy_decisions_placement_t *ret) {
  policy_option_u64_t ttl = rule_ttl(), asked = write->requested_ttl_ms;
  if (asked.is_some && (!ttl.is_some || asked.val < ttl.val)) ttl = asked;
  bool short_lived = ttl.is_some && ttl.val <= MINUTE_MS;
  ret->tiers = tiers(fits_hot(write->size), CONFIG.warm_enabled && !short_lived);
  ret->ttl_ms = ttl;
  ret->class_ = 0;
}

exports_tiered_policy_decisions_tier_set_t exports_tiered_policy_decisions_promote(
    exports_tiered_policy_decisions_read_info_t *read) {
  bool expiring = read->expires_in_ms.is_some && read->expires_in_ms.val < 1000;
  tiered_policy_types_tier_set_t answer = 0;
  if (!expiring && read->served_by != TIERED_POLICY_TYPES_TIER_HOT) {
    bool hot = fits_hot(read->size) && read->access_count >= 2;
    bool warm = read->served_by == TIERED_POLICY_TYPES_TIER_COLD && CONFIG.warm_enabled;
    answer = tiers(hot, warm);
  }
  return answer;
}

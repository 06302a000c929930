// The prefix-TTL example policy, in JavaScript (jco componentize, QuickJS backend).
//
// The same decisions as ../prefix-ttl-rust, ../prefix-ttl-python and
// ../prefix-ttl-c (../README.md is the shared spec): TTL by the longest
// matching key prefix from the configuration, memory for objects that fit,
// disk unless the object lives a minute or less, memory on promotion only
// from the second read. It keeps no eviction order (world `policy`): the
// host's CLOCK evicts for it.
//
// With the QuickJS backend, WIT u64 values are plain numbers (exact up to
// 2^53; the configuration bounds keep TTLs and byte limits below that), u32
// values arrive as *signed* 32-bit numbers (read them with `>>> 0`), an
// absent option is `null`, enums are strings ('hot'), and throwing a string
// from `configure` is its `err`. The component has no WASI (stubbed): log
// through the host's `log` import, not `console.log`.

import { log } from 'tiered:policy/host@0.4.0';
import { key as currentKey } from 'tiered:policy/current-object@0.4.0';

const MINUTE_MS = 60000;
const MAX_TTL_SECONDS = 999999999;
const MAX_BYTES = 999999999999999;

function defaults() {
  return { rules: [], defaultTtlMs: null, hotMaxObjectBytes: 1048576, hotEnabled: false, warmEnabled: false };
}

let config = defaults();

// ASCII digits only, within lo..=hi.
function parseWhole(key, value, lo, hi) {
  const bad = `\`${key}\` = \`${value}\`: expected a whole number from ${lo} to ${hi}`;
  if (value.length === 0 || value.length > 15 || !/^[0-9]+$/.test(value)) throw bad;
  const n = Number(value);
  if (n < lo || n > hi) throw bad;
  return n;
}

function parseTtl(key, value) {
  return value === 'never' ? null : parseWhole(key, value, 1, MAX_TTL_SECONDS) * 1000;
}

function parse(pairs, hotBytes, warmBytes) {
  const cfg = defaults();
  cfg.hotEnabled = hotBytes > 0;
  cfg.warmEnabled = warmBytes > 0;
  const seen = new Set();
  for (const [key, value] of pairs) {
    if (seen.has(key)) throw `\`${key}\` is set twice`;
    seen.add(key);
    if (key.startsWith('ttl.')) {
      const prefix = key.slice(4);
      if (prefix.length === 0) throw '`ttl.` needs a prefix after the dot (use `default_ttl` for every key)';
      cfg.rules.push([prefix, parseTtl(key, value)]);
    } else if (key === 'default_ttl') {
      cfg.defaultTtlMs = parseTtl(key, value);
    } else if (key === 'hot_max_object_bytes') {
      cfg.hotMaxObjectBytes = parseWhole(key, value, 0, MAX_BYTES);
    } else {
      throw `unknown key \`${key}\` (expected \`ttl.<prefix>\`, \`default_ttl\` or \`hot_max_object_bytes\`)`;
    }
  }
  return cfg;
}

// The TTL of the longest prefix the key starts with, else the default. The
// key is read (from the host, a copy into this component) only when there is
// a prefix rule to match it against.
function ruleTtl(readKey) {
  if (config.rules.length === 0) return config.defaultTtlMs;
  const key = readKey();
  let best = null;
  for (const rule of config.rules) {
    if (key.startsWith(rule[0]) && (best === null || rule[0].length > best[0].length)) best = rule;
  }
  return best === null ? config.defaultTtlMs : best[1];
}

function fitsHot(size) {
  return config.hotEnabled && size <= config.hotMaxObjectBytes;
}

// A WIT `tier-set` (flags) is an object of booleans.
function tiers(hot, warm) {
  return { hot, warm };
}

export const decisions = {
  identity() {
    return { name: 'prefix-ttl', version: '0.1.0+js' };
  },

  configure(pairs, capacities) {
    const budget = (tier) => capacities.filter((c) => c.tier === tier).map((c) => c.maxBytes)[0] ?? 0;
    const cfg = parse(pairs, budget('hot'), budget('warm'));
    const ttl = cfg.defaultTtlMs === null ? 'never' : `${cfg.defaultTtlMs / 1000} s`;
    log(
      'info',
      `configured: ${cfg.rules.length} prefix rule(s), default ttl ${ttl}, memory for objects up to ${cfg.hotMaxObjectBytes} B`,
    );
    config = cfg;
  },

  place(write) {
    const rule = ruleTtl(currentKey);
    const asked = write.requestedTtlMs;
    const ttl = rule !== null && asked !== null ? Math.min(rule, asked) : rule === null ? asked : rule;
    const shortLived = ttl !== null && ttl <= MINUTE_MS;
    return { tiers: tiers(fitsHot(write.size), config.warmEnabled && !shortLived), ttlMs: ttl, class: 0 };
  },

  promote(read) {
    if ((read.expiresInMs !== null && read.expiresInMs < 1000) || read.servedBy === 'hot') return tiers(false, false);
    const hot = fitsHot(read.size) && read.accessCount >= 2;
    const warm = read.servedBy === 'cold' && config.warmEnabled;
    return tiers(hot, warm);
  },
};

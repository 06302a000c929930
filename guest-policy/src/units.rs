//! Parsing of the human-friendly values in `[policy_config]`: durations
//! (`500ms`, `30s`, `10m`, `2h`, `7d`, or plain seconds), byte sizes (`4096`,
//! `64KiB`, `1MiB`, `2GB`), whole counts and bounded ratios.
//!
//! Every function returns a message describing what was wrong with the value;
//! `config.rs` prefixes it with the offending key.

/// A duration in milliseconds. A bare number is seconds; suffixes `ms`, `s`,
/// `m`, `h`, `d` are accepted (no spaces inside the number, one unit only).
pub fn parse_duration_ms(value: &str) -> Result<u64, String> {
    let v = value.trim();
    let (number, unit_ms) =
        split_unit(v, &[("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)], 1_000)
            .ok_or_else(|| {
                format!(
                    "`{value}` is not a duration (expected e.g. `30s`, `10m`, `2h`, `7d`, `500ms` or plain seconds)"
                )
            })?;
    number.checked_mul(unit_ms).ok_or_else(|| format!("`{value}` is too long a duration"))
}

/// A byte count. A bare number is bytes; suffixes `B`, `KiB`, `MiB`, `GiB`,
/// `TiB` (powers of 1024) and `KB`, `MB`, `GB`, `TB` (powers of 1000) are
/// accepted, case-insensitively.
pub fn parse_bytes(value: &str) -> Result<u64, String> {
    let lower = value.trim().to_ascii_lowercase();
    let (number, unit) = split_unit(
        &lower,
        &[
            ("kib", 1 << 10),
            ("mib", 1 << 20),
            ("gib", 1 << 30),
            ("tib", 1 << 40),
            ("kb", 1_000),
            ("mb", 1_000_000),
            ("gb", 1_000_000_000),
            ("tb", 1_000_000_000_000),
            ("b", 1),
        ],
        1,
    )
    .ok_or_else(|| format!("`{value}` is not a byte size (expected e.g. `4096`, `64KiB`, `1MiB`)"))?;
    number.checked_mul(unit).ok_or_else(|| format!("`{value}` is too large a byte size"))
}

/// A non-negative whole number that fits in a `u32` (frequency thresholds).
pub fn parse_count(value: &str) -> Result<u32, String> {
    value.trim().parse::<u32>().map_err(|_| format!("`{value}` is not a whole number between 0 and {}", u32::MAX))
}

/// A finite float within `min..=max`.
pub fn parse_ratio(value: &str, min: f64, max: f64) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(x),
        _ => Err(format!("`{value}` is not a number between {min} and {max}")),
    }
}

/// Splits `"<digits><unit>"` against a table of suffixes (tried in order, so
/// longer suffixes sharing an ending must come first) and returns the number
/// and the unit's multiplier; a bare number uses `bare`.
fn split_unit(v: &str, units: &[(&str, u64)], bare: u64) -> Option<(u64, u64)> {
    let digits_end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    if digits_end == 0 {
        return None;
    }
    let number: u64 = v[..digits_end].parse().ok()?;
    let suffix = v[digits_end..].trim_start();
    if suffix.is_empty() {
        return Some((number, bare));
    }
    units.iter().find(|(name, _)| *name == suffix).map(|&(_, mult)| (number, mult))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_every_unit_and_bare_seconds() {
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("30s"), Ok(30_000));
        assert_eq!(parse_duration_ms("10m"), Ok(600_000));
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("7d"), Ok(604_800_000));
        assert_eq!(parse_duration_ms("45"), Ok(45_000));
        assert_eq!(parse_duration_ms(" 3 s "), Ok(3_000));
    }

    #[test]
    fn durations_reject_garbage_and_overflow() {
        for bad in ["", "s", "-5s", "1.5h", "10 minutes", "10mm", "abc"] {
            let err = parse_duration_ms(bad).unwrap_err();
            assert!(err.contains("is not a duration"), "{bad:?}: {err}");
        }
        let huge = format!("{}d", u64::MAX / 2);
        assert!(parse_duration_ms(&huge).unwrap_err().contains("too long"));
    }

    #[test]
    fn byte_sizes_accept_binary_and_decimal_units() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_bytes("1 MiB"), Ok(1 << 20));
        assert_eq!(parse_bytes("2gb"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("12B"), Ok(12));
        assert!(parse_bytes("1.5MiB").is_err());
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("99999999999TiB").unwrap_err().contains("too large"));
    }

    #[test]
    fn counts_and_ratios_are_range_checked() {
        assert_eq!(parse_count("3"), Ok(3));
        assert!(parse_count("-1").is_err());
        assert!(parse_count("4294967296").is_err());
        assert_eq!(parse_ratio("0.5", 0.0, 4.0), Ok(0.5));
        assert!(parse_ratio("NaN", 0.0, 4.0).is_err());
        assert!(parse_ratio("inf", 0.0, 4.0).is_err());
        assert!(parse_ratio("5", 0.0, 4.0).is_err());
    }
}

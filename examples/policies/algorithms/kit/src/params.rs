//! [`Params`]: an algorithm's parameters from the `[policy_config]` table.
//!
//! The table arrives as string pairs. An algorithm asks for each parameter
//! by name with its default ([`Params::number`], [`Params::flag`]); a value that does not
//! parse or lies outside the allowed range is an error naming the key, the
//! value and what is expected. Once every tier's order is built,
//! [`Params::finish`] rejects keys no one asked for (a typo must not
//! silently run the defaults). Parameter names follow libCacheSim's
//! (`n-bit-counter`, `window-size`), so its documentation applies.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// The `[policy_config]` pairs and the names asked for so far.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    asked: Vec<&'static str>,
}

impl Params {
    /// The table, checked for a key given twice.
    pub fn new(pairs: Vec<(String, String)>) -> Result<Params, String> {
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(format!("[policy_config] key `{key}` is given twice"));
            }
        }
        Ok(Params { pairs, asked: Vec::new() })
    }

    /// The value of `key` in `range`, or `default` when the key is absent.
    pub fn number<T>(&mut self, key: &'static str, default: T, range: RangeInclusive<T>) -> Result<T, String>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        if !self.asked.contains(&key) {
            self.asked.push(key);
        }
        let Some((_, text)) = self.pairs.iter().find(|(k, _)| k == key) else { return Ok(default) };
        let expected = || format!("a number from {} to {}", range.start(), range.end());
        let value: T = text
            .trim()
            .parse()
            .map_err(|_| format!("[policy_config] {key} = {text:?} is not a number; expected {}", expected()))?;
        if !range.contains(&value) {
            return Err(format!("[policy_config] {key} = {text:?} is out of range; expected {}", expected()));
        }
        Ok(value)
    }

    /// The switch `key` (`true` or `false`), or `default` when the key is
    /// absent.
    pub fn flag(&mut self, key: &'static str, default: bool) -> Result<bool, String> {
        if !self.asked.contains(&key) {
            self.asked.push(key);
        }
        let Some((_, text)) = self.pairs.iter().find(|(k, _)| k == key) else { return Ok(default) };
        match text.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("[policy_config] {key} = {text:?} is not a switch; expected true or false")),
        }
    }

    /// Rejects a key that no parameter of `algorithm` asked for.
    pub fn finish(&self, algorithm: &str) -> Result<(), String> {
        match self.pairs.iter().find(|(k, _)| !self.asked.contains(&k.as_str())) {
            None => Ok(()),
            Some((key, _)) if self.asked.is_empty() => {
                Err(format!("[policy_config] key `{key}` is unknown: {algorithm} takes no parameters"))
            }
            Some((key, _)) => {
                Err(format!("[policy_config] key `{key}` is unknown; {algorithm} takes: {}", self.asked.join(", ")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    }

    #[test]
    fn absent_keys_take_their_defaults_and_given_ones_parse() {
        let mut p = params(&[("ratio", " 0.25 ")]);
        assert_eq!(p.number("ratio", 0.1, 0.0..=1.0), Ok(0.25));
        assert_eq!(p.number("bits", 1u32, 1..=8), Ok(1));
        assert_eq!(p.finish("test"), Ok(()));
    }

    #[test]
    fn malformed_out_of_range_unknown_and_repeated_keys_are_named() {
        let err = params(&[("bits", "two")]).number("bits", 1u32, 1..=8).unwrap_err();
        assert!(err.contains("bits") && err.contains("\"two\"") && err.contains("1 to 8"), "{err}");
        let err = params(&[("bits", "9")]).number("bits", 1u32, 1..=8).unwrap_err();
        assert!(err.contains("out of range"), "{err}");

        let mut p = params(&[("bitz", "2")]);
        p.number("bits", 1u32, 1..=8).unwrap();
        let err = p.finish("clock").unwrap_err();
        assert!(err.contains("`bitz`") && err.contains("clock takes: bits"), "{err}");
        assert!(params(&[("x", "1")]).finish("lru").unwrap_err().contains("lru takes no parameters"));

        let err = params(&[("adaptive", "yes")]).flag("adaptive", false).unwrap_err();
        assert!(err.contains("adaptive") && err.contains("\"yes\"") && err.contains("true or false"), "{err}");
        assert_eq!(params(&[("adaptive", " true ")]).flag("adaptive", false), Ok(true));
        assert_eq!(params(&[]).flag("adaptive", true), Ok(true));

        let twice = Params::new(vec![("a".into(), "1".into()), ("a".into(), "2".into())]).unwrap_err();
        assert!(twice.contains("`a` is given twice"), "{twice}");
    }
}

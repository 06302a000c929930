//! Listing one page at a time, in key order.
//!
//! A listing asks for the first `max` *entries* under a prefix strictly after
//! a position ([`PageRequest`]). With a delimiter, every key whose remainder
//! after the prefix contains it is folded into one entry, the common prefix
//! up to and including the delimiter's first occurrence, as S3's
//! `ListObjectsV2` does; the page's last entry is the position of the next
//! page, so a common prefix is never listed twice.
//!
//! [`PageBuilder`] keeps the smallest `max + 1` entries offered (one more than
//! a page says whether another follows), whatever order they come in. A tier
//! that lists in no particular order offers it every key under the prefix
//! ([`scan`], the default of [`SourceTier::list_page`](super::SourceTier::list_page));
//! a tier that lists in order, as a bucket does, starts its listing at the
//! position and stops once it holds a page and knows whether more follow
//! ([`PageBuilder::more_follow`]).

use std::collections::BTreeMap;

use futures::StreamExt;

use super::KeyStream;
use crate::error::TierError;

/// Which page to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Only keys starting with it.
    pub prefix: String,
    /// Fold keys into common prefixes at this string (after `prefix`).
    pub delimiter: Option<String>,
    /// Only entries sorting strictly after it (a key or a common prefix).
    pub after: Option<String>,
    /// The most entries on the page; 0 asks for nothing.
    pub max: usize,
}

/// One entry of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A key.
    Key(String),
    /// A common prefix, standing for every key under it.
    Prefix(String),
}

impl Entry {
    /// The key or the common prefix.
    pub fn name(&self) -> &str {
        match self {
            Entry::Key(name) | Entry::Prefix(name) => name,
        }
    }
}

/// One page: entries in byte order of their names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// More entries follow the last one.
    pub truncated: bool,
}

impl Page {
    /// Where the next page starts (after this name), when one follows.
    pub fn next(&self) -> Option<&str> {
        if self.truncated { self.entries.last().map(Entry::name) } else { None }
    }
}

/// The smallest entries offered, folded and filtered as the request says.
#[derive(Debug)]
pub struct PageBuilder<'a> {
    request: &'a PageRequest,
    /// Name → whether it is a common prefix. A name is one or the other: a
    /// key that contains the delimiter folds into the prefix of that name.
    smallest: BTreeMap<String, bool>,
    /// A tier listing in order said more entries follow those offered.
    more: bool,
}

impl<'a> PageBuilder<'a> {
    pub fn new(request: &'a PageRequest) -> Self {
        PageBuilder { request, smallest: BTreeMap::new(), more: false }
    }

    /// Offer a key under the prefix (folded when the delimiter follows the
    /// prefix in it). Keys outside the prefix are ignored; a name is copied
    /// only when it joins the page.
    pub fn offer_key(&mut self, key: &str) {
        let Some(rest) = key.strip_prefix(self.request.prefix.as_str()) else { return };
        let fold = self.request.delimiter.as_deref().and_then(|d| rest.find(d).map(|at| at + d.len()));
        match fold {
            Some(end) => self.offer(&key[..self.request.prefix.len() + end], true),
            None => self.offer(key, false),
        }
    }

    /// Offer a common prefix a tier folded itself.
    pub fn offer_prefix(&mut self, prefix: &str) {
        if prefix.starts_with(self.request.prefix.as_str()) {
            self.offer(prefix, true);
        }
    }

    fn offer(&mut self, name: &str, is_prefix: bool) {
        if self.request.max == 0 || self.request.after.as_deref().is_some_and(|after| name <= after) {
            return;
        }
        if self.is_full() {
            match self.smallest.last_key_value() {
                Some((largest, _)) if name < largest.as_str() => {}
                _ => return,
            }
        }
        if self.smallest.contains_key(name) {
            return;
        }
        self.smallest.insert(name.to_string(), is_prefix);
        if self.smallest.len() > self.request.max + 1 {
            self.smallest.pop_last();
        }
    }

    /// It holds a page and one entry more: a tier listing in order can stop.
    pub fn is_full(&self) -> bool {
        self.smallest.len() > self.request.max
    }

    /// Entries held (at most a page and one more).
    pub fn len(&self) -> usize {
        self.smallest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.smallest.is_empty()
    }

    /// A tier listing in order has more entries after those it offered
    /// (all of them after the position): with a whole page held, the page
    /// is truncated without the entry that would have said so.
    pub fn more_follow(&mut self) {
        self.more = true;
    }

    pub fn finish(self) -> Page {
        let max = self.request.max;
        let truncated = self.smallest.len() > max || (self.more && max > 0 && self.smallest.len() == max);
        let entries = self
            .smallest
            .into_iter()
            .take(max)
            .map(|(name, is_prefix)| if is_prefix { Entry::Prefix(name) } else { Entry::Key(name) })
            .collect();
        Page { entries, truncated }
    }
}

/// A page from a tier that lists in no particular order: every key under
/// the prefix is read (memory: one page; time: the keys under the prefix).
pub async fn scan(mut keys: KeyStream, request: &PageRequest) -> Result<Page, TierError> {
    let mut builder = PageBuilder::new(request);
    if request.max == 0 {
        return Ok(builder.finish());
    }
    while let Some(key) = keys.next().await {
        builder.offer_key(&key?);
    }
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(prefix: &str, delimiter: Option<&str>, after: Option<&str>, max: usize) -> PageRequest {
        PageRequest { prefix: prefix.into(), delimiter: delimiter.map(Into::into), after: after.map(Into::into), max }
    }

    fn page(request: &PageRequest, keys: &[&str]) -> Page {
        let mut builder = PageBuilder::new(request);
        for key in keys {
            builder.offer_key(key);
        }
        builder.finish()
    }

    fn names(page: &Page) -> Vec<&str> {
        page.entries.iter().map(Entry::name).collect()
    }

    const KEYS: [&str; 7] = ["b/2", "a", "c", "b/1", "b/x/1", "bz", "b"];

    #[test]
    fn keys_come_out_in_byte_order_whatever_order_they_go_in() {
        let all = page(&request("", None, None, 10), &KEYS);
        assert_eq!(names(&all), ["a", "b", "b/1", "b/2", "b/x/1", "bz", "c"]);
        assert!(!all.truncated);
        assert_eq!(all.next(), None);
    }

    #[test]
    fn a_delimiter_folds_keys_into_one_common_prefix_each() {
        let folded = page(&request("", Some("/"), None, 10), &KEYS);
        assert_eq!(
            folded.entries,
            [
                Entry::Key("a".into()),
                Entry::Key("b".into()),
                Entry::Prefix("b/".into()),
                Entry::Key("bz".into()),
                Entry::Key("c".into())
            ]
        );
        let under_b = page(&request("b/", Some("/"), None, 10), &KEYS);
        assert_eq!(names(&under_b), ["b/1", "b/2", "b/x/"]);
    }

    #[test]
    fn pages_follow_one_another_without_repeating_a_common_prefix() {
        let first = page(&request("", Some("/"), None, 2), &KEYS);
        assert_eq!(names(&first), ["a", "b"]);
        assert_eq!(first.next(), Some("b"));
        let second = page(&request("", Some("/"), first.next(), 2), &KEYS);
        assert_eq!(names(&second), ["b/", "bz"]);
        let third = page(&request("", Some("/"), second.next(), 2), &KEYS);
        assert_eq!(names(&third), ["c"]);
        assert!(!third.truncated);
    }

    #[test]
    fn a_full_page_that_ends_the_listing_is_not_truncated() {
        let exact = page(&request("b/", None, None, 3), &KEYS);
        assert_eq!(names(&exact), ["b/1", "b/2", "b/x/1"]);
        assert!(!exact.truncated);
    }

    #[test]
    fn the_position_itself_is_never_listed_again() {
        // S3 may answer a `start-after` of a common prefix with that prefix.
        let req = request("", Some("/"), Some("b/"), 10);
        let mut builder = PageBuilder::new(&req);
        builder.offer_prefix("b/");
        builder.offer_key("b/1");
        builder.offer_key("c");
        assert_eq!(names(&builder.finish()), ["c"]);
    }

    #[test]
    fn a_tier_listing_in_order_can_say_more_follow_a_whole_page() {
        let req = request("", None, None, 2);
        let mut builder = PageBuilder::new(&req);
        builder.offer_key("a");
        builder.more_follow();
        assert!(!builder.finish().truncated, "half a page: what follows was not offered yet");
        let mut builder = PageBuilder::new(&req);
        builder.offer_key("a");
        builder.offer_key("b");
        builder.more_follow();
        let page = builder.finish();
        assert_eq!((names(&page), page.next()), (vec!["a", "b"], Some("b")));
    }

    #[test]
    fn nothing_asked_for_is_an_empty_untruncated_page() {
        let none = page(&request("", None, None, 0), &KEYS);
        assert!(none.entries.is_empty() && !none.truncated);
    }

    #[test]
    fn entries_offered_twice_or_outside_the_prefix_count_once_or_not_at_all() {
        let req = request("b", Some("/"), Some("b"), 10);
        let mut builder = PageBuilder::new(&req);
        for key in ["b/1", "b/2", "a", "c"] {
            builder.offer_key(key);
        }
        builder.offer_prefix("b/");
        builder.offer_prefix("x/");
        assert_eq!(builder.finish().entries, [Entry::Prefix("b/".into())]);
    }
}

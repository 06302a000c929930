//! The scenario format's rules: what parses, what is refused and how the
//! message says so.

use super::*;
use crate::testkit::expect::{Source, TtlExpect};
use tiered::policy::TierId;

fn error_of(text: &str) -> String {
    Scenario::parse(text).expect_err("the scenario should be refused").to_string()
}

#[test]
fn a_full_step_parses_into_its_action_and_expectations() {
    let scenario = Scenario::parse(
        r#"
        name = "n"
        [store]
        hot_bytes = "8KiB"
        warm_bytes = 0
        [policy_config]
        "ttl.tmp/" = "30"
        [[step]]
        put = "tmp/a"
        size = "1KiB"
        ttl_ms = 5000
        meta = { owner = "me" }
        expect.in = ["hot", "cold"]
        expect.not_in = ["warm"]
        expect.ttl_ms = 5000
        expect.s3 = { puts = 1, get = 0 }
        [[step]]
        get = "tmp/a"
        expect.source = "miss"
        expect.others = [{ key = "b", not_in = ["hot"] }]
        [[step]]
        advance = 10
        "#,
    )
    .unwrap();
    assert_eq!((scenario.store.hot_bytes.0, scenario.store.warm_bytes.0), (8192, 0));
    assert_eq!(scenario.policy_config["ttl.tmp/"], "30");
    let put = scenario.steps[0].action().unwrap();
    assert!(matches!(&put, Action::Put { key, size: 1024, ttl_ms: Some(5000), meta, .. }
        if key == "tmp/a" && meta["owner"] == "me"));
    let expect = &scenario.steps[0].expect;
    assert_eq!(
        (expect.held.as_slice(), expect.not_in.as_slice()),
        ([TierId::Hot, TierId::Cold].as_slice(), [TierId::Warm].as_slice())
    );
    assert_eq!(expect.ttl_ms, Some(TtlExpect::Ms(5000)));
    assert_eq!(expect.s3.map(|s| (s.put, s.get, s.head)), Some((Some(1), Some(0), None)));
    assert_eq!(scenario.steps[1].expect.source, Some(Source::Miss));
    assert_eq!(scenario.steps[2].action().unwrap(), Action::Advance { ms: 10 });
}

#[test]
fn a_step_needs_exactly_one_action() {
    assert!(error_of("[[step]]\nget = \"a\"\ndelete = \"a\"\n").contains("step 1: a step needs exactly one of"));
    assert!(error_of("[[step]]\nsize = 3\n").contains("found []"));
    assert!(error_of("name = \"no steps\"\n").contains("no steps"));
}

#[test]
fn misspelt_or_misplaced_fields_are_refused() {
    assert!(error_of("[[step]]\nget = \"a\"\nexpect.sorce = \"hot\"\n").contains("sorce"));
    assert!(error_of("[[step]]\nget = \"a\"\nexpect.s3 = { gett = 1 }\n").contains("gett"));
    assert!(error_of("[[step]]\nput = \"a\"\n").contains("a put needs `size`"));
    assert!(error_of("[[step]]\nget = \"a\"\nsize = 1\n").contains("`size` is not allowed here"));
    assert!(error_of("[[step]]\nput = \"a\"\nsize = 1\nexpect.source = \"hot\"\n").contains("for `get` steps"));
    assert!(error_of("[[step]]\nget = \"a\"\nexpect.ttl_ms = 5\n").contains("for `put` steps"));
    assert!(error_of("[[step]]\nput = \"a\"\nsize = 1\nexpect.ttl_ms = \"forever\"\n").contains("\"never\""));
    assert!(error_of("[[step]]\nadvance_ms = 5\nexpect.in = [\"hot\"]\n").contains("need a step with a key"));
    assert!(error_of("[[step]]\ncheck = \"a\"\nexpect.in = [\"hot\"]\nexpect.not_in = [\"hot\"]\n").contains("both"));
    assert!(error_of("[[step]]\ncheck = \"a\"\nexpect.in = [\"lukewarm\"]\n").contains("lukewarm"));
}

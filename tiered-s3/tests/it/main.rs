//! The S3 tier's tests, one harness (libtest-mimic, so a trial that cannot
//! run is reported as ignored, never as passed):
//!
//! - the S3 tier's logic without a server: the tier over the in-memory
//!   bucket (`mock::MockClient`), with failures injected
//!   (`failure::FailureClient`), in the modules below;
//! - the tier contract (`tiered::store::contract`), one trial per rule, on
//!   the in-memory bucket (`s3_mock::...`) and on a live server
//!   (`s3_live::...`: settings from `TIERED_S3_*` as for the host's live
//!   suite; ignored without `TIERED_S3_BUCKET`, failed with
//!   `TIERED_S3_REQUIRED=1`).
//!
//! - `answers`: what 404 and 304 mean, objects written by other tools,
//!   bodies that break off or end short (asked for again), the size limit.
//! - `errors`: S3's errors as tier errors (throttling, access denied,
//!   timeouts), with S3's code in the message.
//! - `multipart`: uploads in parts, aborted when a step fails or the
//!   caller drops the upload half-way.
//! - `listing`: pages, continuation tokens, a page read from its position,
//!   batched deletes.

mod answers;
mod errors;
mod listing;
mod multipart;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use libtest_mimic::{Arguments, Failed, Trial};
use tiered::object::{Object, ObjectMeta, checksum};
use tiered::store::contract::{Applies, Role, rules};
use tiered_s3::failure::FailureClient;
use tiered_s3::mock::MockClient;
use tiered_s3::{S3Config, S3Tier};

/// A tier over an in-memory bucket, failures on command; returns both.
pub fn rig(config: S3Config) -> (S3Tier, Arc<FailureClient<MockClient>>) {
    rig_with(config, MockClient::new())
}

pub fn rig_with(config: S3Config, bucket: MockClient) -> (S3Tier, Arc<FailureClient<MockClient>>) {
    let client = Arc::new(FailureClient::new(bucket));
    let config = S3Config { bucket: "mock".into(), ..config };
    (S3Tier::with_client(config, client.clone()), client)
}

pub fn config() -> S3Config {
    S3Config { prefix: "store/".into(), ..S3Config::default() }
}

/// An object as the engine hands it to a tier.
pub fn object(key: &str, data: impl Into<Bytes>) -> Object {
    let data = data.into();
    let meta = ObjectMeta {
        key: key.to_string(),
        size: data.len() as u64,
        original_size: data.len() as u64,
        created_ms: 1_000,
        expires_ms: None,
        checksum: checksum(&data),
        codec: Default::default(),
        content_type: Some("text/plain".into()),
        metadata: BTreeMap::from([("owner".to_string(), "tests".to_string())]),
        etag: None,
        validated_ms: None,
    };
    Object::new(meta, data)
}

/// A trial of an async test on its own runtime.
fn trial<F>(name: &str, test: fn() -> F) -> Trial
where
    F: std::future::Future<Output = anyhow::Result<()>> + 'static,
{
    Trial::test(name, move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(test()).map_err(|e| Failed::from(format!("{e:?}")))
    })
}

macro_rules! test {
    ($path:path) => {
        trial(stringify!($path).replace(' ', "").as_str(), $path)
    };
}

/// The live server's settings, or why there are none.
fn live_config() -> Result<S3Config, String> {
    let config = S3Config::from_env(|name| std::env::var(name).ok())
        .ok_or("live S3 trials need TIERED_S3_BUCKET (see tests/s3/garage.sh)")?;
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let prefix = format!("{}tiered-tests/contract-{run:x}-{}/", config.prefix, std::process::id());
    Ok(S3Config { prefix, ..config })
}

fn contract_trials(live: &Result<S3Config, String>) -> Vec<Trial> {
    let mut trials = Vec::new();
    for rule in rules().into_iter().filter(|r| r.applies != Applies::Cache) {
        trials.push(Trial::test(format!("s3_mock::{}", rule.name), move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let client = Arc::new(MockClient::new());
            let tier =
                S3Tier::with_client(S3Config { bucket: "mock".into(), prefix: "contract/".into(), ..config() }, client);
            runtime.block_on(rule.check(Role::Source(Arc::new(tier)))).map_err(Failed::from)
        }));
        let name = format!("s3_live::{}", rule.name);
        let live = live.clone();
        let required = std::env::var("TIERED_S3_REQUIRED").is_ok_and(|v| !v.is_empty());
        let ignored = live.is_err() && !required;
        let trial = Trial::test(name, move || {
            let mut config = live.map_err(Failed::from)?;
            // Each rule on an empty prefix of its own.
            config.prefix = format!("{}{}/", config.prefix, rule.name);
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let tier = S3Tier::connect(config).await.map_err(|e| Failed::from(e.to_string()))?;
                let outcome = rule.check(Role::Source(Arc::new(tier.clone()))).await;
                let _ = tiered::store::Tier::clear(&tier).await;
                outcome.map_err(Failed::from)
            })
        });
        trials.push(trial.with_ignored_flag(ignored));
    }
    trials
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = vec![
        test!(answers::a_missing_key_is_a_miss_not_an_error),
        test!(answers::a_missing_bucket_is_an_error_not_a_miss),
        test!(answers::a_stored_object_comes_back_with_its_metadata_under_the_prefix),
        test!(answers::an_unchanged_etag_is_not_modified_and_a_changed_one_returns_the_object),
        test!(answers::a_304_to_an_unconditional_get_is_an_error_not_a_panic),
        test!(answers::an_object_written_by_another_tool_is_served_as_it_is),
        test!(answers::a_body_ending_short_of_its_length_is_an_error_never_a_shorter_object),
        test!(answers::a_body_that_breaks_off_is_asked_for_again_whole_or_from_where_it_broke),
        test!(answers::a_stream_is_never_spliced_from_two_versions),
        test!(answers::an_object_over_the_size_limit_is_refused_before_its_body_is_read),
        test!(answers::an_expiry_rewrite_never_overwrites_a_concurrent_writers_version),
        test!(answers::bytes_that_do_not_match_their_checksum_are_corrupt_whole_or_streamed),
        test!(errors::throttling_and_timeouts_are_unavailable_and_name_s3s_code),
        test!(errors::refusals_are_rejected_not_retried_as_outages),
        test!(errors::a_failed_delete_reports_and_a_failed_head_before_it_deletes_nothing),
        test!(listing::a_listing_follows_continuation_tokens_page_by_page),
        test!(listing::a_failed_page_ends_the_listing_with_its_error),
        test!(listing::a_prefix_is_deleted_in_batches_of_at_most_1000),
        test!(listing::keys_a_busy_server_could_not_delete_are_asked_again),
        test!(listing::a_key_refused_for_good_fails_the_delete_at_once),
        test!(listing::keys_still_failing_after_the_last_attempt_fail_the_delete_by_name),
        test!(listing::a_page_reads_only_its_own_entries_from_the_bucket),
        test!(listing::a_delimited_page_continues_after_a_common_prefix),
        test!(listing::a_failed_list_request_fails_the_page),
        test!(multipart::a_large_object_goes_up_in_parts_and_reads_back_whole),
        test!(multipart::a_failed_part_aborts_the_upload_and_stores_nothing),
        test!(multipart::a_failed_completion_aborts_too_and_a_failed_abort_keeps_the_first_error),
        test!(multipart::an_upload_dropped_half_way_is_aborted),
        test!(multipart::a_completion_whose_answer_was_lost_is_confirmed_from_the_object),
        test!(multipart::a_spooled_file_goes_up_one_part_at_a_time),
    ];
    trials.extend(contract_trials(&live_config()));
    libtest_mimic::run(&args, trials).exit();
}

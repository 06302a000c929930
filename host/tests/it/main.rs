//! The integration tests of the `tiered` binary and its crates, as one test
//! binary (wasmtime and the AWS SDK link once). A module per area; `support`
//! holds what they share (rigs, servers, S3 set-up, contract suites).
//!
//! - `engine_*`: the cascade through the library API.
//! - `policy_*`: policy components: runtime sandbox, languages, scenarios.
//! - `reliability_*`: concurrency, corruption, crashes, faults, fuzzing, HTTP.
//! - `s3_api_*`: the S3-compatible endpoint of `tiered serve`, through
//!   `aws-sdk-s3`, raw HTTP and (`s3_api_clients`, `#[ignore]`d, run by
//!   `tests/run-all`) boto3, the AWS CLI and rclone.
//! - `s3_*` (others): the S3 tier against a live server (skipped, and reported as such,
//!   without `TIERED_S3_BUCKET`; required by `tests/run-all`).
//! - `service*`, `http_*`: the `tiered serve` binary end to end.
//! - `shadow_policy`: shadow policies beside the live one, and promotion.
//! - `algorithms`: the eviction algorithm library against libCacheSim.
//! - `default_miss_ratios`: the default policy against LRU and the best of
//!   libCacheSim's online algorithms, on a Zipf trace and two real ones.
//! - `simulate`, `simulate_compare`: `tiered simulate`, one policy and several.
//! - `tier_contract`: the tier contract against every tier.
//! - `trace_capture`: access-trace capture in `tiered serve`, replayed by
//!   `simulate` and read by libCacheSim.

mod support;

mod algorithms;
mod default_miss_ratios;
mod engine_cascade;
mod engine_lifecycle;
mod engine_lookup;
mod engine_order_faults;
mod engine_range;
mod engine_staleness;
mod engine_stream;
mod engine_wasm_policy;
mod http_ranges;
mod http_streaming;
mod observability;
mod policy_current_object;
mod policy_languages;
mod policy_languages_s3fifo;
mod policy_languages_serve;
mod policy_runtime;
mod policy_scenarios;
mod reliability_concurrency;
mod reliability_corruption;
mod reliability_crash;
mod reliability_faults;
mod reliability_fuzz;
mod reliability_http;
mod s3_api_auth;
mod s3_api_clients;
mod s3_api_copy;
mod s3_api_large;
mod s3_api_listing;
mod s3_api_multipart;
mod s3_api_objects;
mod s3_live;
mod s3_outage;
mod s3_service;
mod service;
mod service_lifecycle;
mod shadow_policy;
mod simulate;
mod simulate_compare;
mod tier_contract;
mod trace_capture;

//! The pause before the tier asks S3 again on its own, outside the SDK's
//! retry: for keys a DeleteObjects could not delete (`listing`) and for a
//! GetObject body that broke off (`download`). The SDK's retry covers a
//! request until its answer's headers; what fails inside a 200 answer or
//! after its headers is the tier's to retry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The pause before attempt `attempt + 1`: 100 ms doubled per attempt, at
/// most 2 s, with jitter (between half and all of it) so that stores
/// retrying at once do not ask again in step.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let step = (100u64 << attempt.saturating_sub(1).min(5)).min(2_000);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    Duration::from_millis(step / 2 + u64::from(nanos) % (step / 2 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_50_to_100_ms_up_to_1_to_2_s() {
        for (attempt, (low, high)) in [(1, (50, 100)), (2, (100, 200)), (5, (800, 1_600)), (9, (1_000, 2_000))] {
            for _ in 0..50 {
                let pause = backoff(attempt).as_millis() as u64;
                assert!((low..=high).contains(&pause), "attempt {attempt}: {pause} ms");
            }
        }
    }
}

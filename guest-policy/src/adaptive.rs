//! [`Adaptive`]: a tier's eviction order that follows, among its
//! [`Expert`]s, the one that would have hit most lately.
//!
//! No algorithm of the library is best on every workload (BENCHMARKS.md:
//! S3-FIFO on web and key-value traces, W-TinyLFU on skewed traces of mixed
//! sizes, LIRS on block traces with loops). So a tier runs one live order
//! and beside it one [`Miniature`] per expert: the expert's own order over a
//! hash-sampled subset of the objects, with the budget scaled alike. Every
//! `window` sampled requests, each miniature's hits are added to a decayed
//! score; when another expert's score leads the live one's by more than
//! [`MARGIN`] of the requests at [`LEAD_WINDOWS`] decisions running, the
//! tier switches to it.
//!
//! - **Sampling.** Until the tier first fills, no order evicts, so nothing
//!   is decided; a bounded log keeps the events of a hash sample. A full
//!   log halves its sample, but never below the rate the miniatures will
//!   need at the tier's present size: past that it forgets its older half
//!   instead (a tier read for a long time before it fills would otherwise
//!   sample fewer and fewer objects). At the first eviction the rate is
//!   fixed so that a miniature holds about [`MINIATURE_OBJECTS`] objects
//!   (every object of a smaller tier), and each miniature replays the
//!   logged events it samples ([`REPLAY_STEP`] an `admit` or `evict` call,
//!   and two for each event logged meanwhile), so it starts with the
//!   history its expert would have had (starting one from the residents
//!   alone favours the experts that forget least).
//! - **A switch** builds the new expert's order empty; from then on every
//!   `admit` or `evict` call (the switching one too, when a miss decided
//!   it) has the old order hand it residents, coldest first, at most
//!   [`HANDOVER_STEP`] a call, so a call's work stays bounded whatever the
//!   tier's size. Until the old order is empty it names the victims, and a
//!   resident it holds that is read moves to the new order at once. A tier
//!   of a few thousand objects changes order within a few calls; the new
//!   expert then decides every eviction and admission with the whole tier
//!   in view. (Letting the old order name every victim until it ran dry
//!   admitted every arrival of that time unchallenged: W-TinyLFU then held
//!   them all and lost about half a point of hit ratio to the switch on the
//!   Zipf traces of mixed sizes.)
//! - **Cost.** The live order's memory and time, plus per event one hash
//!   and, for the sampled fraction, one request per miniature.

use tiered_order_kit::{Admission, Capacity, Order};

use crate::expert::{BoxedOrder, Expert};
use crate::miniature::Miniature;
use crate::s3fifo::S3FifoParams;

/// Objects a miniature holds, about: enough that the miniatures' miss
/// ratios tell experts apart by less than a point. The sampled objects see
/// the same requests in every miniature, so the noise of the sample mostly
/// cancels out of the comparison: miniatures of 16,384 objects gave the
/// same miss ratios, within 0.10 point, in all 16 cases of BENCHMARKS.md
/// ("Miss ratios"), for up to twice the policy's time on a tier of 10,000
/// objects.
pub const MINIATURE_OBJECTS: u64 = 4_096;

/// Objects a miniature may come to hold (its objects grew smaller than
/// when its rate was set) before the rate is set again.
pub const RESAMPLE_OBJECTS: u64 = 4 * MINIATURE_OBJECTS;

/// Sampled requests per decision, at least.
pub const MIN_WINDOW: u64 = 1024;

/// How much an expert must lead the live one by, as a fraction of the
/// (decayed) sampled requests, before the tier switches to it.
pub const MARGIN: f64 = 0.01;

/// Consecutive decisions an expert must lead by the margin before the
/// tier switches to it: a switch costs misses, a passing lead does not pay
/// for them.
pub const LEAD_WINDOWS: u64 = 3;

/// The weight a window's score keeps into the next.
pub const DECAY: f64 = 0.9;

/// Windows the miniatures run before the first decision.
pub const WARM_UP_WINDOWS: u64 = 1;

/// Logged events the miniatures replay per call while they catch up (a
/// call stays within a few milliseconds).
pub const REPLAY_STEP: usize = 2048;

/// Residents the old order hands the new one per call after a switch.
pub const HANDOVER_STEP: usize = 2048;

/// Logged events before the first eviction, at most.
const LOG_MAX: usize = 4 * MINIATURE_OBJECTS as usize;

/// Spreads an id over 64 bits (SplitMix64's finalizer): trace ids are often
/// consecutive integers, and the sample must not follow them.
fn spread(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The spread below which an id is sampled at `rate` (at most 1).
fn threshold_of(rate: f64) -> u64 {
    (rate.min(1.0) * u64::MAX as f64) as u64
}

/// An event logged before the tier first fills, replayed into the
/// miniatures when it does.
#[derive(Clone, Copy, Debug)]
enum Logged {
    Request(u64, u64),
    Arrival(u64, u64),
    Removal(u64),
}

impl Logged {
    fn id(self) -> u64 {
        match self {
            Logged::Request(id, _) | Logged::Arrival(id, _) | Logged::Removal(id) => id,
        }
    }
}

/// Where the comparison of experts stands.
enum Sampling {
    /// One expert: nothing to compare.
    Off,
    /// Before the first eviction: the events of ids whose spread is below
    /// `threshold`, in order (the threshold halves when the log is full).
    Logging { threshold: u64, log: Vec<Logged> },
    /// The miniatures replay the log, [`REPLAY_STEP`] events a call; new
    /// sampled events join the log's end.
    CatchingUp { threshold: u64, log: Vec<Logged>, next: usize },
    /// Miniatures running over ids whose spread is below `threshold`.
    Running { threshold: u64 },
}

impl std::fmt::Debug for Sampling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sampling::Off => f.write_str("Off"),
            Sampling::Logging { threshold, log } => {
                f.debug_struct("Logging").field("threshold", threshold).field("logged", &log.len()).finish()
            }
            Sampling::CatchingUp { threshold, log, next } => f
                .debug_struct("CatchingUp")
                .field("threshold", threshold)
                .field("logged", &log.len())
                .field("next", next)
                .finish(),
            Sampling::Running { threshold } => f.debug_struct("Running").field("threshold", threshold).finish(),
        }
    }
}

/// Applies a logged event to a miniature.
fn apply(mini: &mut Miniature, event: Logged) {
    match event {
        Logged::Request(id, size) => {
            mini.request(id, size);
        }
        Logged::Arrival(id, size) => mini.arrive(id, size),
        Logged::Removal(id) => mini.remove(id),
    }
}

/// The order of one tier.
pub struct Adaptive {
    experts: Vec<Expert>,
    capacity: Capacity,
    reserve: usize,
    params: S3FifoParams,
    live: BoxedOrder,
    live_expert: usize,
    /// The order switched from, still being moved into `live`.
    draining: Option<BoxedOrder>,
    sampling: Sampling,
    minis: Vec<Miniature>,
    scores: Vec<f64>,
    /// The decayed count of sampled requests, the scores' denominator.
    requests: f64,
    window: u64,
    in_window: u64,
    windows: u64,
    /// Consecutive decisions the same challenger has led by the margin.
    leading: (usize, u64),
    switches: u64,
    /// A switch not yet reported ([`Adaptive::take_switch`]).
    unreported: Option<Expert>,
}

impl std::fmt::Debug for Adaptive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adaptive")
            .field("live", &self.live_expert())
            .field("len", &self.len())
            .field("draining", &self.draining.as_ref().map(|d| d.len()))
            .field("sampling", &self.sampling)
            .field("minis", &self.minis)
            .field("scores", &self.scores)
            .field("switches", &self.switches)
            .finish()
    }
}

impl Adaptive {
    /// An empty order for a tier of `capacity`, starting with `experts[0]`
    /// (at least one expert); its id tables sized for `reserve` objects.
    pub fn new(experts: Vec<Expert>, capacity: Capacity, reserve: usize, params: S3FifoParams) -> Adaptive {
        assert!(!experts.is_empty(), "a tier is ordered by at least one expert");
        let live = experts[0].build(capacity, reserve, params);
        let sampling =
            if experts.len() == 1 { Sampling::Off } else { Sampling::Logging { threshold: u64::MAX, log: Vec::new() } };
        Adaptive {
            scores: vec![0.0; experts.len()],
            experts,
            capacity,
            reserve,
            params,
            live,
            live_expert: 0,
            draining: None,
            sampling,
            minis: Vec::new(),
            requests: 0.0,
            window: MIN_WINDOW,
            in_window: 0,
            windows: 0,
            leading: (0, 0),
            switches: 0,
            unreported: None,
        }
    }

    /// The expert the live order is.
    pub fn live_expert(&self) -> Expert {
        self.experts[self.live_expert]
    }

    /// Times the tier switched experts.
    pub fn switches(&self) -> u64 {
        self.switches
    }

    /// The expert switched to since the last call, if any (for the log).
    pub fn take_switch(&mut self) -> Option<Expert> {
        self.unreported.take()
    }

    /// Objects held.
    pub fn len(&self) -> usize {
        self.live.len() + self.draining.as_ref().map_or(0, |d| d.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A read of `id` (`size` bytes) the tier served.
    pub fn hit(&mut self, id: u64, size: u64) {
        // Still ordered by the old expert: read, it moves to the new one.
        let moved = self.draining.as_mut().is_some_and(|old| Self::take(old.as_mut(), id));
        if moved {
            self.live.arrive(id, size);
        } else {
            self.live.hit(id);
        }
        self.sampled(Logged::Request(id, size));
    }

    /// Removes `id` from `order`; whether it held it.
    fn take(order: &mut (dyn Order + Send), id: u64) -> bool {
        let before = order.len();
        order.remove(id);
        order.len() < before
    }

    /// `id` entered without a decision (residents handed over).
    pub fn arrived(&mut self, id: u64, size: u64) {
        if let Some(old) = &mut self.draining {
            old.remove(id);
        }
        self.live.arrive(id, size);
        self.sampled(Logged::Arrival(id, size));
    }

    /// `id` left the tier by someone else's decision.
    pub fn remove(&mut self, id: u64) {
        self.live.remove(id);
        if let Some(old) = &mut self.draining {
            old.remove(id);
        }
        self.sampled(Logged::Removal(id));
    }

    /// Decide on an arrival of `size` bytes when `need` must be freed:
    /// `Some(victims)` evicts them and holds `id`, `None` refuses it.
    pub fn admit(&mut self, id: u64, size: u64, need: u64) -> Option<Vec<u64>> {
        if need > 0 {
            self.filled();
        }
        self.sampled(Logged::Request(id, size));
        self.catch_up(REPLAY_STEP);
        let Some(old) = &mut self.draining else {
            return match self.live.admit(id, size, need) {
                Admission::Admit(victims) => Some(victims),
                Admission::Refuse => None,
            };
        };
        old.remove(id);
        let (taken, freed) = self.drain_old(need);
        let decided = match self.live.admit(id, size, need.saturating_sub(freed)) {
            Admission::Admit(mut victims) => {
                victims.extend(taken.iter().map(|&(victim, _)| victim));
                Some(victims)
            }
            Admission::Refuse => {
                // Nothing leaves: what the old order gave up is the new one's.
                taken.into_iter().for_each(|(victim, bytes)| self.live.arrive(victim, bytes));
                None
            }
        };
        self.hand_over(HANDOVER_STEP);
        decided
    }

    /// Victims freeing `need` bytes (fewer if the order runs dry).
    pub fn evict(&mut self, need: u64) -> Vec<u64> {
        if need > 0 {
            self.filled();
        }
        self.catch_up(REPLAY_STEP);
        let (taken, freed) = self.drain_old(need);
        let mut victims: Vec<u64> = taken.into_iter().map(|(victim, _)| victim).collect();
        if freed < need {
            victims.extend(self.live.evict(need - freed));
        }
        self.hand_over(HANDOVER_STEP);
        victims
    }

    /// After a switch, moves up to `step` of the old order's residents into
    /// the new one, coldest first: each arrives in front of those moved
    /// before it, so an order by recency ranks them as the old one did.
    /// W-TinyLFU keeps the last ones in its window and moves the rest into
    /// main, as a miss would (there they count twice in its sketch, in the
    /// window once, so its admission may let the last ones go first).
    /// Drops the old order once it names no more.
    fn hand_over(&mut self, step: usize) {
        let Some(old) = &mut self.draining else { return };
        for _ in 0..step {
            let Some((id, size)) = old.evict_one() else {
                self.draining = None;
                return;
            };
            self.live.arrive(id, size);
        }
    }

    /// After a switch, the old order names the victims until it is empty:
    /// `(id, size)` of those freeing `need` bytes (fewer if it runs dry), and
    /// the bytes they free.
    fn drain_old(&mut self, need: u64) -> (Vec<(u64, u64)>, u64) {
        let mut taken = Vec::new();
        let mut freed = 0;
        if let Some(old) = &mut self.draining {
            while freed < need {
                let Some((victim, bytes)) = old.evict_one() else { break };
                taken.push((victim, bytes));
                freed += bytes;
            }
        }
        (taken, freed)
    }

    /// An event for the miniatures: logged before they run or while they
    /// catch up, applied once they run (a sampled id only).
    fn sampled(&mut self, event: Logged) {
        match &mut self.sampling {
            Sampling::Off => {}
            Sampling::Logging { threshold, log } => {
                if spread(event.id()) < *threshold {
                    log.push(event);
                    if log.len() > LOG_MAX {
                        // The tier will hold at least about as many objects
                        // when it fills as it holds now, so the miniatures
                        // will sample at most this rate: a log sampled below
                        // it would leave them too few objects.
                        let residents = self.live.len() + self.draining.as_ref().map_or(0, |d| d.len());
                        let needed = threshold_of(MINIATURE_OBJECTS as f64 / residents.max(1) as f64);
                        if *threshold / 2 >= needed {
                            *threshold /= 2;
                            let kept = *threshold;
                            log.retain(|e| spread(e.id()) < kept);
                        } else {
                            // Reads of the tier's objects before it fills:
                            // the sample stays, its older half of history goes.
                            log.drain(..log.len() / 2);
                        }
                    }
                }
            }
            Sampling::CatchingUp { threshold, log, .. } => {
                if spread(event.id()) < *threshold {
                    log.push(event);
                    // Two replayed for each one logged: the replay ends
                    // even when hits come in long batches between misses.
                    self.catch_up(2);
                }
            }
            Sampling::Running { threshold } => {
                if spread(event.id()) >= *threshold {
                    return;
                }
                self.minis.iter_mut().for_each(|m| apply(m, event));
                if self.minis.iter().any(|m| m.len() as u64 > RESAMPLE_OBJECTS) {
                    // Objects became much smaller than when the rate was
                    // set: start over, the rate to be set at the next
                    // eviction (the miniatures start from what is logged
                    // from now on).
                    self.minis.clear();
                    self.sampling = Sampling::Logging { threshold: u64::MAX, log: Vec::new() };
                    return;
                }
                if let Logged::Request(..) = event {
                    self.in_window += 1;
                    if self.in_window >= self.window {
                        self.in_window = 0;
                        self.decide();
                    }
                }
            }
        }
    }

    /// The tier is full: fix the sampling rate, build the miniatures and
    /// start replaying the log into them (once).
    fn filled(&mut self) {
        let residents = self.len().max(1) as u64;
        let Sampling::Logging { threshold, log } = &mut self.sampling else { return };
        let threshold = (*threshold).min(threshold_of(MINIATURE_OBJECTS as f64 / residents as f64));
        let rate = threshold as f64 / u64::MAX as f64;
        let mut log = std::mem::take(log);
        log.retain(|e| spread(e.id()) < threshold);
        let budget = (self.capacity.max_bytes as f64 * rate) as u64;
        // A miniature never holds more than RESAMPLE_OBJECTS: its tables
        // (and W-TinyLFU's sketch) are sized for that, not for the tier's
        // bound, which for a disk tier of small objects runs to millions.
        let bound = if self.capacity.max_objects > 0 { self.capacity.max_objects } else { u64::MAX };
        let most = ((bound as f64 * rate) as u64).min(RESAMPLE_OBJECTS);
        let capacity = Capacity { max_bytes: budget, max_objects: most };
        let reserve = ((self.reserve as f64 * rate) as usize).min(RESAMPLE_OBJECTS as usize);
        self.minis =
            self.experts.iter().map(|e| Miniature::new(e.build(capacity, reserve, self.params), budget)).collect();
        let sampled = (residents as f64 * rate) as u64;
        self.window = sampled.max(MIN_WINDOW);
        self.sampling = Sampling::CatchingUp { threshold, log, next: 0 };
    }

    /// Replays up to `step` logged events into the miniatures: they
    /// live the tier's history so far, as if they had run from the start at
    /// this rate (its hits are not scored). Then they run.
    fn catch_up(&mut self, step: usize) {
        let Sampling::CatchingUp { threshold, log, next } = &mut self.sampling else { return };
        let end = (*next + step).min(log.len());
        for &event in &log[*next..end] {
            self.minis.iter_mut().for_each(|m| apply(m, event));
        }
        *next = end;
        if end == log.len() {
            self.minis.iter_mut().for_each(|m| {
                m.take_hits();
            });
            self.sampling = Sampling::Running { threshold: *threshold };
        }
    }

    /// The end of a window: score the experts, switch if one leads.
    fn decide(&mut self) {
        self.requests = self.requests * DECAY + self.window as f64;
        for (score, mini) in self.scores.iter_mut().zip(&mut self.minis) {
            *score = *score * DECAY + mini.take_hits() as f64;
        }
        self.windows += 1;
        if self.draining.is_some() || self.windows <= WARM_UP_WINDOWS {
            return;
        }
        let (best, &lead) = self
            .scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .expect("at least one expert");
        let ahead = best != self.live_expert && lead - self.scores[self.live_expert] > MARGIN * self.requests;
        self.leading = match (ahead, self.leading) {
            (false, _) => (best, 0),
            (true, (challenger, n)) if challenger == best => (best, n + 1),
            (true, _) => (best, 1),
        };
        if self.leading.1 >= LEAD_WINDOWS {
            // Tables sized for the objects the tier holds (four times, for
            // growth), not its bound: built within one call.
            let bound = if self.capacity.max_objects > 0 { self.capacity.max_objects } else { u64::MAX };
            let most = (4 * self.len() as u64).max(RESAMPLE_OBJECTS).min(bound);
            let capacity = Capacity { max_objects: most, ..self.capacity };
            let next = self.experts[best].build(capacity, (most as usize).min(self.reserve), self.params);
            self.draining = Some(std::mem::replace(&mut self.live, next));
            self.live_expert = best;
            self.switches += 1;
            self.unreported = Some(self.experts[best]);
            self.leading = (best, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::expert::Eviction;
    use crate::s3fifo::S3Fifo;

    /// A tier as the host keeps it: residents and bytes, victims checked.
    struct Tier {
        order: Adaptive,
        resident: HashMap<u64, u64>,
        used: u64,
        budget: u64,
        hits: u64,
    }

    impl Tier {
        fn new(experts: Vec<Expert>, budget: u64) -> Tier {
            let capacity = Capacity { max_bytes: budget, max_objects: budget };
            let order = Adaptive::new(experts, capacity, budget as usize, S3FifoParams::default());
            Tier { order, resident: HashMap::new(), used: 0, budget, hits: 0 }
        }

        /// One read; whether it hit.
        fn read(&mut self, id: u64, size: u64) -> bool {
            if self.resident.contains_key(&id) {
                self.order.hit(id, size);
                self.hits += 1;
                return true;
            }
            let need = (self.used + size).saturating_sub(self.budget);
            if let Some(victims) = self.order.admit(id, size, need) {
                let refused = victims.contains(&id);
                for victim in victims.into_iter().filter(|&v| v != id) {
                    let bytes = self.resident.remove(&victim).expect("a victim is a resident");
                    self.used -= bytes;
                }
                assert!(self.used + size <= self.budget, "the victims free what is needed");
                if !refused {
                    self.resident.insert(id, size);
                    self.used += size;
                }
            }
            assert_eq!(self.order.len(), self.resident.len(), "the order counts what the tier holds");
            false
        }
    }

    /// Passes over a loop of `objects` ids, `passes` times.
    fn looping(objects: u64, passes: u64) -> impl Iterator<Item = u64> {
        (0..passes).flat_map(move |_| 0..objects)
    }

    #[test]
    fn one_expert_is_that_expert_decision_for_decision() {
        let mut tier = Tier::new(vec![Expert::S3Fifo], 500);
        let mut plain = S3Fifo::new(500, 500, S3FifoParams::default());
        let mut held = HashMap::new();
        let mut used = 0;
        for i in 0..20_000u64 {
            let id = (i * 7919) % 1000 % (1 + i % 700);
            let hit = tier.read(id, 1);
            assert_eq!(hit, held.contains_key(&id));
            if hit {
                plain.hit(id);
            } else {
                let need = (used + 1u64).saturating_sub(500);
                for victim in plain.admit(id, 1, need).expect("S3-FIFO admits") {
                    used -= held.remove(&victim).unwrap();
                }
                held.insert(id, 1);
                used += 1;
            }
        }
        assert_eq!(tier.order.switches(), 0);
        assert!(matches!(tier.order.sampling, Sampling::Off));
    }

    #[test]
    fn on_a_loop_larger_than_the_tier_it_leaves_s3fifo_and_hits_more() {
        // A loop of 1,200 over a tier of 1,000: recency and FIFO orders
        // keep losing the object needed next; LIRS keeps a fixed set.
        let reads: Vec<u64> = looping(1200, 60).collect();
        let mut adaptive = Tier::new(Eviction::Adaptive.experts(), 1000);
        let mut s3fifo = Tier::new(vec![Expert::S3Fifo], 1000);
        let half = reads.len() / 2;
        let (mut late_adaptive, mut late_s3fifo) = (0, 0);
        for (i, &id) in reads.iter().enumerate() {
            let (a, s) = (adaptive.read(id, 1), s3fifo.read(id, 1));
            if i >= half {
                late_adaptive += u64::from(a);
                late_s3fifo += u64::from(s);
            }
        }
        assert!(adaptive.order.switches() >= 1, "{:?}", adaptive.order);
        assert_ne!(adaptive.order.live_expert(), Expert::S3Fifo, "{:?}", adaptive.order);
        assert!(
            late_adaptive > late_s3fifo + half as u64 / 10,
            "second half: adaptive {late_adaptive} hits, S3-FIFO alone {late_s3fifo}"
        );
    }

    #[test]
    fn a_switch_hands_every_resident_over_and_keeps_the_budget() {
        // Tier::read checks each victim is a resident, the budget, and the
        // count after every request; here the switch happens mid-run and
        // the old order hands its residents over in several calls (a tier
        // of three steps).
        let budget = 3 * HANDOVER_STEP as u64;
        let mut tier = Tier::new(Expert::ALL.to_vec(), budget);
        let mut draining_seen = false;
        for id in looping(budget + budget / 5, 30) {
            tier.read(id, 1);
            draining_seen |= tier.order.draining.is_some();
        }
        assert!(tier.order.switches() >= 1 && draining_seen, "{:?}", tier.order);
        assert!(tier.order.draining.is_none(), "the old order drained");
        // Removals reach the live order: the tier can be emptied.
        for id in tier.resident.keys().copied().collect::<Vec<_>>() {
            tier.order.remove(id);
        }
        assert_eq!(tier.order.len(), 0);
    }

    #[test]
    fn a_hand_over_moves_the_coldest_first_and_keeps_their_rank() {
        let capacity = Capacity { max_bytes: 10_000, max_objects: 10_000 };
        let mut order = Adaptive::new(Eviction::Adaptive.experts(), capacity, 10_000, S3FifoParams::default());
        let objects = HANDOVER_STEP as u64 + 100;
        for id in 0..objects {
            order.arrived(id, 1);
        }
        let next = Expert::S3Fifo.build(capacity, 10_000, S3FifoParams::default());
        order.draining = Some(std::mem::replace(&mut order.live, next));
        order.hand_over(HANDOVER_STEP);
        assert_eq!((order.live.len(), order.draining.as_ref().map(|d| d.len())), (HANDOVER_STEP, Some(100)));
        assert_eq!(order.len(), objects as usize);
        order.hand_over(HANDOVER_STEP);
        assert!(order.draining.is_none(), "an empty old order is dropped");
        // FIFO to FIFO: the new order names them in the old one's order.
        let named: Vec<u64> = std::iter::from_fn(|| order.live.evict_one().map(|(id, _)| id)).collect();
        assert_eq!(named, (0..objects).collect::<Vec<_>>());
    }

    #[test]
    fn the_replay_ends_when_only_hits_come() {
        // A tier of 3,000 fills with each object read twice (6,000 logged
        // events, more than one call replays), then only hits arrive: no
        // admit or evict call drives the rest of the replay; the hits do.
        let mut tier = Tier::new(Eviction::Adaptive.experts(), 3000);
        for id in 0..3000 {
            tier.read(id, 1);
            tier.read(id, 1);
        }
        tier.read(3000, 1);
        assert!(matches!(tier.order.sampling, Sampling::CatchingUp { .. }), "{:?}", tier.order.sampling);
        let held: Vec<u64> = tier.resident.keys().copied().collect();
        for round in 0..3 {
            for &id in &held {
                assert!(tier.read(id, 1), "round {round}: a resident hits");
            }
        }
        assert!(matches!(tier.order.sampling, Sampling::Running { .. }), "{:?}", tier.order.sampling);
    }

    #[test]
    fn objects_growing_smaller_set_the_rate_again() {
        // The tier fills with 1,000 objects of 100 bytes (rate 1), then
        // serves 90,000 objects of 1 byte, each read again and again: the
        // miniatures would come to hold most of them.
        let mut tier = Tier::new(Eviction::Adaptive.experts(), 100_000);
        for id in 0..1_001 {
            tier.read(id, 100);
        }
        // The residents when the rate was set again.
        let mut reset_at = None;
        for id in looping(90_000, 4) {
            let (held, logging) = (tier.order.len(), matches!(tier.order.sampling, Sampling::Logging { .. }));
            tier.read(1_001 + id, 1);
            if logging && !matches!(tier.order.sampling, Sampling::Logging { .. }) {
                reset_at = Some(held);
            }
            assert!(tier.order.minis.iter().all(|m| m.len() as u64 <= RESAMPLE_OBJECTS + 1));
        }
        let threshold = match tier.order.sampling {
            Sampling::Running { threshold } | Sampling::CatchingUp { threshold, .. } => threshold,
            ref other => panic!("the miniatures run again: {other:?}"),
        };
        // The rate was 1 (every object sampled) until the objects shrank; set
        // again, it is the miniatures' share of the residents then.
        let held = reset_at.expect("the rate was set again") as f64;
        let rate = threshold as f64 / u64::MAX as f64;
        assert!(held > MINIATURE_OBJECTS as f64, "{held} residents");
        assert!((rate * held / MINIATURE_OBJECTS as f64 - 1.0).abs() < 1e-6, "rate {rate} for {held} residents");
    }

    #[test]
    fn hits_before_the_tier_fills_do_not_shrink_the_sample() {
        // A tier of 20,000 objects holds 10,000 read again and again long
        // before it fills (a service's hot tier larger than its working set
        // for a while): the log of sampled events overflows many times over.
        let objects = 20_000;
        let mut tier = Tier::new(Expert::ALL.to_vec(), objects);
        for id in looping(10_000, 40) {
            tier.read(id, 1);
        }
        // Then new objects fill it.
        let mut id = 10_000;
        while !matches!(tier.order.sampling, Sampling::Running { .. }) {
            tier.read(id, 1);
            id += 1;
            assert!(id < 10 * objects, "the miniatures never ran: {:?}", tier.order.sampling);
        }
        let Sampling::Running { threshold } = tier.order.sampling else { unreachable!() };
        let rate = threshold as f64 / u64::MAX as f64;
        let sampled = rate * objects as f64;
        assert!(
            (sampled / MINIATURE_OBJECTS as f64 - 1.0).abs() < 0.05,
            "the miniatures sample {sampled:.0} of the tier's {objects} objects (rate {rate})"
        );
    }

    #[test]
    fn the_sample_is_sized_from_the_tier_when_it_first_fills() {
        let objects = 8 * MINIATURE_OBJECTS;
        let mut tier = Tier::new(Expert::ALL.to_vec(), objects);
        for id in 0..objects + 1 {
            tier.read(id, 1);
        }
        assert!(matches!(tier.order.sampling, Sampling::CatchingUp { .. }), "{:?}", tier.order.sampling);
        // The replay goes a step a call.
        for id in objects + 1..objects + 1 + (LOG_MAX / REPLAY_STEP) as u64 {
            tier.read(id, 1);
        }
        let Sampling::Running { threshold } = tier.order.sampling else { panic!("{:?}", tier.order.sampling) };
        let rate = threshold as f64 / u64::MAX as f64;
        assert!((rate * objects as f64 - MINIATURE_OBJECTS as f64).abs() < 1.0, "rate {rate}");
        let held = tier.order.minis[0].len() as f64;
        assert!(
            (held / MINIATURE_OBJECTS as f64 - 1.0).abs() < 0.05,
            "a miniature replayed the sampled history: {held}"
        );
    }
}

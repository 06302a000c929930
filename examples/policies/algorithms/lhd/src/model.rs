//! [`Model`]: LHD's estimate of hit density by class and age.
//!
//! Objects fall into classes by how recently they were reused (the sum of
//! their last two hit ages, on a log scale: [`class_of`]). For each class
//! the model counts the hits and evictions seen at each age (ages are
//! request counts shifted right by a coarsening), and from them the hit
//! density at each age: the hits an object of that age can still expect
//! over the space-time it will still take, as the paper's equation gives
//! it, summed from the oldest age down. Every `2^20` accesses the counts
//! decay by 0.9 and the densities are recomputed; at the 6th and 26th
//! reconfiguration the age coarsening is retuned to the number of objects.
//! Until the first one the densities are libCacheSim's starting guess,
//! `(class + 1) / (age + 1)` (close to GDSF).
//!
//! Single precision throughout, as libCacheSim computes it (its `rank_t`).
//! libCacheSim keeps 16 application classes of 16 classes each but every
//! request carries the same application id (1): only its 16 are kept here,
//! numbered from 16 in the starting guess as there.

/// Ages at and above this are one bucket (an object that old is evicted
/// first).
pub const MAX_AGE: usize = 20_000;
/// Classes by hit age.
pub const CLASSES: usize = 16;
/// libCacheSim's index of the first class of the one application.
const FIRST_CLASS: usize = CLASSES;
const EWMA_DECAY: f32 = 0.9;
const AGE_COARSENING_ERROR_TOLERANCE: f32 = 0.01;

/// The class of an object whose last two hits came at ages summing to
/// `age_sum`: about `log2(MAX_AGE / age_sum)`, 15 for 0.
pub fn class_of(age_sum: u64) -> usize {
    if age_sum == 0 {
        return CLASSES - 1;
    }
    let (mut age, mut log) = (age_sum, 0);
    while age < MAX_AGE as u64 && log < CLASSES - 1 {
        age <<= 1;
        log += 1;
    }
    log
}

#[derive(Debug)]
struct Class {
    hits: Vec<f32>,
    evictions: Vec<f32>,
    densities: Vec<f32>,
}

#[derive(Debug)]
pub struct Model {
    classes: Vec<Class>,
    /// Ages are request counts shifted right by this much.
    pub coarsening_shift: u32,
    ewma_objects: f32,
    ewma_objects_mass: f32,
    /// Reconfigurations so far.
    pub reconfigurations: u32,
}

impl Default for Model {
    fn default() -> Self {
        let classes = (0..CLASSES)
            .map(|c| Class {
                hits: vec![0.0; MAX_AGE],
                evictions: vec![0.0; MAX_AGE],
                densities: (0..MAX_AGE).map(|a| ((FIRST_CLASS + c + 1) as f64 / (a + 1) as f64) as f32).collect(),
            })
            .collect();
        Model { classes, coarsening_shift: 10, ewma_objects: 0.0, ewma_objects_mass: 0.0, reconfigurations: 0 }
    }
}

impl Model {
    pub fn density(&self, class: usize, age: usize) -> f32 {
        self.classes[class].densities[age]
    }

    pub fn record_hit(&mut self, class: usize, age: usize) {
        self.classes[class].hits[age] += 1.0;
    }

    pub fn record_eviction(&mut self, class: usize, age: usize) {
        self.classes[class].evictions[age] += 1.0;
    }

    /// Decays the counts, retunes the coarsening if it is time, and
    /// recomputes the densities; `objects` is the number cached.
    pub fn reconfigure(&mut self, objects: usize) {
        for class in &mut self.classes {
            for count in class.hits.iter_mut().chain(class.evictions.iter_mut()) {
                *count *= EWMA_DECAY;
            }
        }
        self.adapt_coarsening(objects);
        self.model_densities();
        self.reconfigurations += 1;
    }

    fn adapt_coarsening(&mut self, objects: usize) {
        self.ewma_objects = self.ewma_objects * EWMA_DECAY + objects as f32;
        self.ewma_objects_mass = self.ewma_objects_mass * EWMA_DECAY + 1.0;
        let objects = self.ewma_objects / self.ewma_objects_mass;
        let optimal = (f64::from(objects) / f64::from(AGE_COARSENING_ERROR_TOLERANCE * MAX_AGE as f32)) as f32;
        if self.reconfigurations != 5 && self.reconfigurations != 25 {
            return;
        }
        let mut shift = 1u32;
        while ((1u64 << shift) as f32) < optimal {
            shift += 1;
        }
        let delta = shift as i32 - self.coarsening_shift as i32;
        self.coarsening_shift = shift;
        // Weigh the estimate more, to delay another shift.
        self.ewma_objects *= 8.0;
        self.ewma_objects_mass *= 8.0;
        for class in &mut self.classes {
            for counts in [&mut class.hits, &mut class.evictions] {
                rescale(counts, delta);
            }
        }
    }

    /// Each class's densities from its counts, from the oldest age down.
    fn model_densities(&mut self) {
        for class in &mut self.classes {
            let last = MAX_AGE - 1;
            let mut events = class.hits[last] + class.evictions[last];
            let mut hits = class.hits[last];
            let mut lifetime = events;
            for age in (0..last).rev() {
                hits += class.hits[age];
                events += class.hits[age] + class.evictions[age];
                lifetime += events;
                class.densities[age] = if f64::from(events) > 1e-5 { hits / lifetime } else { 0.0 };
            }
        }
    }
}

/// Moves counts to a coarsening `delta` steps coarser (or, negative, finer).
fn rescale(counts: &mut [f32], delta: i32) {
    let last = MAX_AGE - 1;
    if delta < 0 {
        let d = delta.unsigned_abs();
        for age in (MAX_AGE >> d)..last {
            counts[last] += counts[age];
        }
        for age in (0..last).rev() {
            counts[age] = counts[age >> d] / (1u32 << d) as f32;
        }
    } else if delta > 0 {
        let d = delta as u32;
        for age in 0..(MAX_AGE >> d) {
            counts[age] = (0..1usize << d).map(|i| counts[(age << d) + i]).fold(0.0, |sum, c| sum + c);
        }
        for count in &mut counts[(MAX_AGE >> d)..last] {
            *count = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_grow_as_reuse_gets_closer() {
        assert_eq!(class_of(0), 15);
        assert_eq!(class_of(MAX_AGE as u64), 0);
        assert_eq!(class_of(MAX_AGE as u64 / 2), 1);
        assert_eq!(class_of(1), 15);
        assert_eq!(class_of(600), 6);
    }

    #[test]
    fn the_starting_guess_falls_with_age_and_rises_with_class() {
        let m = Model::default();
        assert_eq!(m.density(0, 0), 17.0);
        assert_eq!(m.density(15, 1), 16.0);
        assert!(m.density(0, 9) < m.density(0, 8));
    }

    #[test]
    fn densities_follow_the_counts() {
        let mut m = Model::default();
        // Class 3: two hits at age 2, one eviction at age 4.
        m.record_hit(3, 2);
        m.record_hit(3, 2);
        m.record_eviction(3, 4);
        m.reconfigure(100);
        // After decay: 1.8 hits at age 2, 0.9 evictions at age 4. Past age
        // 4 nothing happens; at ages 3 and 4 no hit is left to come. At
        // age 2: 1.8 hits over the space-time still to spend, summed over
        // ages 4, 3, 2 (0.9 + 0.9 + 2.7 events).
        assert_eq!(m.density(3, 5), 0.0);
        assert_eq!(m.density(3, 3), 0.0);
        let expected = 1.8f32 / 4.5;
        assert!((m.density(3, 2) - expected).abs() < 1e-6, "{}", m.density(3, 2));
        assert_eq!(m.reconfigurations, 1);
    }

    #[test]
    fn rescaling_keeps_the_mass() {
        let mut counts = vec![0.0f32; MAX_AGE];
        counts[0] = 1.0;
        counts[1] = 2.0;
        counts[5] = 4.0;
        rescale(&mut counts, 1);
        assert_eq!(&counts[..3], &[3.0, 0.0, 4.0]);
        rescale(&mut counts, -1);
        assert_eq!(&counts[..5], &[1.5, 1.5, 0.0, 0.0, 2.0]);
    }
}

//! How big a run is, and its seed.

use std::time::Duration;

/// The variable choosing the size: `large` for the benchmark run, anything else small.
pub const SIZE_VARIABLE: &str = "EXSYNC_CHAOS";
/// The variable replaying a seed.
pub const SEED_VARIABLE: &str = "EXSYNC_CHAOS_SEED";

/// One run's dimensions.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// `small` or `large`.
    pub name: &'static str,
    /// The seed of every random choice the test makes.
    pub seed: u64,
    /// Emails the stream sends.
    pub emails: usize,
    /// Pause between two emails.
    pub pace: Duration,
    /// Synced mailboxes added to each tenant beyond the demo's two.
    pub extra_staff: usize,
    /// SIGKILLs of `exsync serve` while the mail flows (embedded runtime).
    pub kills: usize,
    /// Instances of each function (AWS runtime).
    pub instances: usize,
    /// How long the pipeline may take at most to catch up once the stream ends (it fails
    /// sooner when it stops making progress: `verdict::wait_landed`).
    pub settle: Duration,
}

impl Plan {
    /// The plan the environment asks for; prints it (with the seed) so a failure can be
    /// replayed.
    pub fn from_env(runtime: &str) -> Plan {
        let seed = std::env::var(SEED_VARIABLE)
            .ok()
            .map(|s| s.trim().parse().expect("EXSYNC_CHAOS_SEED is a number"))
            .unwrap_or_else(rand::random);
        let large = std::env::var(SIZE_VARIABLE).is_ok_and(|v| v.eq_ignore_ascii_case("large"));
        let plan = if large {
            Plan {
                name: "large",
                seed,
                emails: 2000,
                pace: Duration::from_millis(15),
                extra_staff: 3,
                kills: 12,
                instances: 3,
                settle: Duration::from_secs(3600),
            }
        } else {
            Plan {
                name: "small",
                seed,
                emails: 150,
                pace: Duration::from_millis(70),
                extra_staff: 0,
                kills: 4,
                instances: 2,
                settle: Duration::from_secs(150),
            }
        };
        println!(
            "chaos {runtime}: {} run, seed {seed} (replay: {SEED_VARIABLE}={seed} \
             {SIZE_VARIABLE}={}), {} emails, {} mailboxes",
            plan.name,
            plan.name,
            plan.emails,
            4 + 2 * plan.extra_staff
        );
        plan
    }
}

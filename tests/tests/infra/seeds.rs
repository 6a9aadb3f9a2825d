//! Known mistakes seeded into copies of the template: the two lints together catch each one,
//! and the expansion catches what cfn-lint alone cannot see inside SAM resources.

use std::{
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
    thread,
};

use crate::lint::{Lint, Tools, template};

/// One mistake: the first `find` of the template becomes `replace`, and the lints must say
/// `expect`.
struct Seed {
    mistake: &'static str,
    find: &'static str,
    replace: &'static str,
    expect: &'static str,
}

const SEEDS: &[Seed] = &[
    Seed {
        mistake: "a runtime Lambda does not have (in Globals)",
        find: "Runtime: provided.al2023",
        replace: "Runtime: provided.al2099",
        expect: "'provided.al2099' is not one of",
    },
    Seed {
        mistake: "a misspelt FunctionResponseTypes value inside a SAM event",
        find: "FunctionResponseTypes: [ReportBatchItemFailures]",
        replace: "FunctionResponseTypes: [ReportBatchItemFailure]",
        expect: "'ReportBatchItemFailure' is not one of ['ReportBatchItemFailures']",
    },
    Seed {
        mistake: "a !GetAtt to a missing resource inside a SAM event",
        find: "Queue: !GetAtt WritesQueue.Arn",
        replace: "Queue: !GetAtt WriteQueue.Arn",
        expect: "'WriteQueue' is not one of",
    },
    Seed {
        mistake: "a misspelt property",
        find: "VisibilityTimeout: !FindInMap [Timeouts, Write, Visibility]",
        replace: "VisibilityTimout: !FindInMap [Timeouts, Write, Visibility]",
        expect: "'VisibilityTimout' was unexpected",
    },
    Seed {
        mistake: "a !Ref to a missing resource in a function's environment",
        find: "EXSYNC_TOKENS_FUNCTION: !Ref TokensFunction",
        replace: "EXSYNC_TOKENS_FUNCTION: !Ref TokenFunction",
        expect: "'TokenFunction' is not one of",
    },
    Seed {
        mistake: "an IAM action that does not exist",
        find: "Action: [dynamodb:GetItem, dynamodb:UpdateItem]",
        replace: "Action: [dynamodb:GetItem, dynamodb:UpdateItems]",
        expect: "'updateitems' is not one of",
    },
    Seed {
        mistake: "an event type SAM does not have",
        find: "Type: SQS\n",
        replace: "Type: SQSS\n",
        expect: "Event Type is: SQSS",
    },
];

/// Lints every seeded copy, a few at a time (each lint is a Python process).
fn lint_seeds(tools: &Tools, scratch: &Path) -> Vec<Lint> {
    let original = std::fs::read_to_string(template()).expect("infra/template.yaml");
    let next = AtomicUsize::new(0);
    let workers = thread::available_parallelism().map_or(2, |n| n.get()).min(4);
    let mut results: Vec<(usize, Lint)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(seed) = SEEDS.get(i) else { return done };
                        assert!(
                            original.contains(seed.find),
                            "the seed for {} looks for {:?}, which the template no longer has: \
                             update the seed",
                            seed.mistake,
                            seed.find
                        );
                        let copy = scratch.join(format!("seed{i}.yaml"));
                        std::fs::write(&copy, original.replacen(seed.find, seed.replace, 1))
                            .expect("scratch is writable");
                        done.push((i, tools.lint(&copy, scratch)));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a lint worker")).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, lint)| lint).collect()
}

#[test]
fn both_lints_together_catch_every_seeded_mistake() {
    let tools = Tools::from_env();
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let lints = lint_seeds(&tools, scratch.path());
    let mut missed = Vec::new();
    for (seed, lint) in SEEDS.iter().zip(&lints) {
        if lint.passed() || !lint.report().contains(seed.expect) {
            missed.push(format!(
                "{}: expected {:?} in\n{}",
                seed.mistake,
                seed.expect,
                lint.report()
            ));
        }
    }
    assert!(missed.is_empty(), "mistakes the lints let through:\n{}", missed.join("\n\n"));
    let only_expanded: Vec<_> = SEEDS
        .iter()
        .zip(&lints)
        .filter(|(_, lint)| lint.template.passed)
        .map(|(seed, _)| seed.mistake)
        .collect();
    // cfn-lint 1.x does not expand SAM (crates.md 6): without the second lint these pass.
    assert!(
        only_expanded.contains(&"a misspelt FunctionResponseTypes value inside a SAM event")
            && only_expanded.contains(&"a runtime Lambda does not have (in Globals)"),
        "the expansion is what catches mistakes inside SAM resources; caught only after it: \
         {only_expanded:?}"
    );
}

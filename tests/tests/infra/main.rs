//! `infra/template.yaml`, the SAM template of the AWS deployment, checked the way
//! `scripts/test` checks it: cfn-lint on the template and cfn-lint on its offline SAM
//! expansion (cfn-lint 1.x does not look inside SAM resources, crates.md 6). The lints must
//! pass on the template and catch known mistakes seeded into copies of it ([`seeds`]); the
//! expanded template must give the functions what the code and the interface (AWS.md)
//! expect ([`interface`]).
//!
//! The tools come from [`lint::TOOLS_VARIABLE`], which `scripts/test` sets after installing
//! them.

mod access;
mod interface;
mod lint;
mod seeds;

use std::sync::OnceLock;

use lint::{Lint, Tools, template};

/// Both lints of the real template, run once for every test of this binary.
pub fn real_lint() -> &'static Lint {
    static LINT: OnceLock<Lint> = OnceLock::new();
    LINT.get_or_init(|| {
        let scratch = tempfile::tempdir().expect("a scratch directory");
        Tools::from_env().lint(&template(), scratch.path())
    })
}

/// The real template, expanded to CloudFormation.
pub fn expanded() -> &'static serde_json::Value {
    real_lint()
        .expanded
        .as_ref()
        .unwrap_or_else(|| panic!("the template does not expand:\n{}", real_lint().report()))
}

#[test]
fn the_template_passes_both_lints_without_a_finding() {
    let lint = real_lint();
    assert!(lint.passed(), "{}", lint.report());
    assert_eq!(lint.template.report.trim(), "", "cfn-lint found something");
    assert_eq!(lint.expansion.report.trim(), "", "the expansion or its lint found something");
}

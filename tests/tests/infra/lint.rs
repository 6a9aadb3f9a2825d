//! The two lints of `scripts/test`, run on any copy of the template: cfn-lint on the SAM
//! template, then cfn-lint on its offline SAM expansion (`infra/sam2cfn.py`).

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The variable naming a directory that holds `cfn-lint` and a `python` with
/// aws-sam-translator (set by `scripts/test` to its `.venv/bin`).
pub const TOOLS_VARIABLE: &str = "EXSYNC_INFRA_TOOLS";

/// The region the expansion builds ARNs for (no AWS call is made).
const REGION: &str = "eu-west-1";

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repository").into()
}

/// `infra/template.yaml`.
pub fn template() -> PathBuf {
    root().join("infra/template.yaml")
}

/// One lint's verdict.
#[derive(Debug, Clone)]
pub struct Check {
    /// It exited 0.
    pub passed: bool,
    /// What it printed (stdout, then stderr).
    pub report: String,
}

impl Check {
    fn of(output: Output) -> Check {
        let mut report = String::from_utf8_lossy(&output.stdout).into_owned();
        report.push_str(&String::from_utf8_lossy(&output.stderr));
        Check { passed: output.status.success(), report }
    }
}

/// Both lints of one template.
#[derive(Debug, Clone)]
pub struct Lint {
    /// cfn-lint on the SAM template itself.
    pub template: Check,
    /// The SAM expansion, then cfn-lint on the CloudFormation it made (the expansion's own
    /// complaint when it failed).
    pub expansion: Check,
    /// The expanded CloudFormation, when the expansion succeeded.
    pub expanded: Option<serde_json::Value>,
}

impl Lint {
    /// Both lints passed.
    pub fn passed(&self) -> bool {
        self.template.passed && self.expansion.passed
    }

    /// Everything both lints said.
    pub fn report(&self) -> String {
        format!(
            "cfn-lint on the template:\n{}\nthe expansion and cfn-lint on it:\n{}",
            self.template.report, self.expansion.report
        )
    }
}

/// The lint tools.
#[derive(Debug, Clone)]
pub struct Tools {
    cfn_lint: PathBuf,
    python: PathBuf,
}

impl Tools {
    /// The tools `scripts/test` installed.
    ///
    /// # Panics
    ///
    /// If [`TOOLS_VARIABLE`] is not set or does not hold them (a test never skips silently).
    pub fn from_env() -> Tools {
        let dir = std::env::var_os(TOOLS_VARIABLE).unwrap_or_else(|| {
            panic!(
                "{TOOLS_VARIABLE} is not set: run scripts/test, which installs cfn-lint and \
                 aws-sam-translator into .venv and sets it to .venv/bin"
            )
        });
        let dir = PathBuf::from(dir);
        let tools = Tools { cfn_lint: dir.join("cfn-lint"), python: dir.join("python") };
        for tool in [&tools.cfn_lint, &tools.python] {
            assert!(tool.is_file(), "{TOOLS_VARIABLE}: {} does not exist", tool.display());
        }
        tools
    }

    /// Runs both lints on `template`, with the expansion written into `scratch`.
    pub fn lint(&self, template: &Path, scratch: &Path) -> Lint {
        let template_check = Check::of(self.run(Command::new(&self.cfn_lint).arg(template)));
        let stem = template.file_stem().expect("a template file").to_string_lossy();
        let expanded_path = scratch.join(format!("{stem}.cfn.json"));
        let expansion = Check::of(
            self.run(
                Command::new(&self.python)
                    .arg(root().join("infra/sam2cfn.py"))
                    .arg(template)
                    .arg(&expanded_path)
                    .env("AWS_DEFAULT_REGION", REGION),
            ),
        );
        if !expansion.passed {
            return Lint { template: template_check, expansion, expanded: None };
        }
        let text = std::fs::read_to_string(&expanded_path).expect("the expansion was written");
        let expanded = serde_json::from_str(&text).expect("the expansion is JSON");
        let expansion = Check::of(self.run(Command::new(&self.cfn_lint).arg(&expanded_path)));
        Lint { template: template_check, expansion, expanded: Some(expanded) }
    }

    fn run(&self, command: &mut Command) -> Output {
        // cfn-lint and the translator are offline; no AWS profile may change what they say.
        command.env_remove("AWS_PROFILE").output().unwrap_or_else(|e| panic!("{command:?}: {e}"))
    }
}

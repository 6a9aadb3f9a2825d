//! moto in server mode (PyPI `moto[server]`): real implementations of the SQS, DynamoDB and
//! Secrets Manager APIs on 127.0.0.1, for the tests of the AWS twins of the ports.
//!
//! `scripts/test` installs moto into `.venv` and names its `moto_server` in
//! [`SERVER_VARIABLE`]; without it, starting moto fails with a message saying so (a test never
//! skips silently). One server serves a whole test binary ([`Moto::shared`]); tests keep apart
//! by naming their queues, tables and secrets with [`Moto::unique`], so they can run in
//! parallel. A server of its own ([`Moto::start`]) can be [`reset`](Moto::reset).
//!
//! The server is moto's own WSGI app, run by the Python of `moto_server` with one change
//! (`serve.py`): DynamoDB requests are served one at a time, because moto's DynamoDB takes no
//! lock and two racing conditional writes could both succeed there, never on DynamoDB. It runs
//! under a small shell that kills it when the test process goes away (its stdin, a pipe from
//! the test, closes), so no server outlives its tests, not even the shared one, which is never
//! dropped.

mod provision;

pub use provision::TTL_ATTRIBUTE;

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sqs::config::{Credentials, Region};

/// The variable naming the `moto_server` executable (set by `scripts/test`).
pub const SERVER_VARIABLE: &str = "EXSYNC_MOTO_SERVER";

/// The moto version `scripts/test` installs (crates.md section 3 verified 5.2.5).
pub const VERSION: &str = "5.2.5";

/// The region every test uses.
pub const REGION: &str = "eu-west-1";

/// How long a starting server may take to answer (python imports are slow on a busy machine).
const START_PATIENCE: Duration = Duration::from_secs(40);

/// A moto server on 127.0.0.1, killed when dropped (or when the test process ends).
#[derive(Debug)]
pub struct Moto {
    shell: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    log: PathBuf,
    names: AtomicU32,
}

impl Moto {
    /// The server every test of this binary shares (started on first use).
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    /// Starts a server of its own on a free port and waits until it answers.
    ///
    /// # Panics
    ///
    /// If moto is not installed (run `scripts/test`), or it does not come up.
    pub fn start() -> Moto {
        let python = interpreter_of(&server_path());
        let mut last = String::new();
        // A free port can be taken between finding and binding it: try a few.
        for _ in 0..3 {
            let port = free_port();
            let log =
                std::env::temp_dir().join(format!("exsync-moto-{}-{port}.log", std::process::id()));
            let mut shell = Command::new("sh")
                .arg("-c")
                .arg(r#""$0" -c "$3" "$1" </dev/null >"$2" 2>&1 & m=$!; cat >/dev/null; kill $m; wait $m"#)
                .arg(&python)
                .arg(port.to_string())
                .arg(&log)
                .arg(SERVE)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("sh starts");
            let stdin = shell.stdin.take();
            let moto = Moto { shell, stdin, port, log, names: AtomicU32::new(0) };
            match moto.wait_until_ready() {
                Ok(()) => return moto,
                Err(why) => last = why,
            }
        }
        panic!("moto did not start: {last}");
    }

    fn wait_until_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_PATIENCE;
        while Instant::now() < deadline {
            if get(self.port, "/moto-api/").is_ok_and(|status| status == 200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        Err(format!(
            "no answer on port {} within {START_PATIENCE:?}; its log ends: {tail:?}",
            self.port
        ))
    }

    /// `http://127.0.0.1:{port}`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK configuration for this server: its endpoint, [`REGION`] and static credentials,
    /// so aws-config never looks for credentials elsewhere (no instance metadata probes). Make
    /// one per test: SDK clients keep connections on the runtime that made them.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("moto", "moto", None, None, "moto"))
            .load()
            .await
    }

    /// Forgets every queue, table and secret (`POST /moto-api/reset`). Only for a server of
    /// one's own: other tests may be using the shared one.
    pub fn reset(&self) {
        let status = request(self.port, "POST", "/moto-api/reset").expect("moto answers");
        assert_eq!(status, 200, "moto reset");
    }

    /// A name no other test of this server uses: `{stem}-{n}`.
    pub fn unique(&self, stem: &str) -> String {
        format!("{stem}-{}", self.names.fetch_add(1, Ordering::Relaxed))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing the shell's stdin makes it kill the server and wait for it.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.shell.try_wait() {
                let _ = std::fs::remove_file(&self.log);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.shell.kill();
        let _ = self.shell.wait();
    }
}

/// The `moto_server` to run: [`SERVER_VARIABLE`], else the workspace's `.venv`.
fn server_path() -> PathBuf {
    let path = std::env::var_os(SERVER_VARIABLE).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server")
    });
    assert!(
        path.is_file(),
        "moto is not installed ({} does not exist): run scripts/test, which installs \
         moto[server]=={VERSION} into .venv, or set {SERVER_VARIABLE} to a moto_server executable",
        path.display()
    );
    path
}

/// moto's server with DynamoDB requests served one at a time (see the script).
const SERVE: &str = include_str!("serve.py");

/// The Python that runs `moto_server` (its `#!` line): moto is importable there.
fn interpreter_of(server: &std::path::Path) -> PathBuf {
    let script = std::fs::read_to_string(server).unwrap_or_default();
    let shebang = script.lines().next().and_then(|l| l.strip_prefix("#!")).map(str::trim);
    match shebang {
        Some(python) if !python.is_empty() => PathBuf::from(python),
        _ => panic!(
            "{} is not a moto_server script (no #! line); run scripts/test",
            server.display()
        ),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn get(port: u16, path: &str) -> std::io::Result<u16> {
    request(port, "GET", path)
}

/// A bare HTTP/1.0 request (no async runtime needed); returns the status code.
fn request(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let status = std::str::from_utf8(&head[9..12]).ok().and_then(|s| s.parse().ok());
    status.ok_or_else(|| std::io::Error::other("not an HTTP status line"))
}

//! Real `redis-server`s on 127.0.0.1 for the session tests: found on the
//! machine, or installed (Debian's package) once per process, under a lock
//! so that test binaries racing each other install it once.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Where `redis-server` and `redis-cli` are; installs them when absent.
/// Panics with what to do when they cannot be had: a test that needs Redis
/// never passes without it.
pub fn binaries() -> &'static (PathBuf, PathBuf) {
    static FOUND: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FOUND.get_or_init(|| {
        if let Some(found) = find() {
            return found;
        }
        install();
        find().unwrap_or_else(|| {
            panic!(
                "redis-server and redis-cli are needed by the session tests and could not be \
                 installed; install them (`apt-get install redis-server`) and run the tests again"
            )
        })
    })
}

fn find() -> Option<(PathBuf, PathBuf)> {
    let which = |name: &str| -> Option<PathBuf> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    };
    Some((which("redis-server")?, which("redis-cli")?))
}

/// `apt-get install redis-server` (as root, else through `sudo -n`), under a
/// file lock; `apt-get update` once and again when the first try fails.
fn install() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| -> bool {
        let mut command = if root {
            Command::new("flock")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("-n").arg("flock");
            sudo
        };
        command
            .arg("/tmp/authorizer-redis-install.lock")
            .arg("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        command.status().is_ok_and(|status| status.success())
    };
    let install = ["install", "-y", "--no-install-recommends", "redis-server"];
    // Another binary may have installed it while this one waited for the lock.
    if find().is_some() || apt(&install) {
        return;
    }
    apt(&["update"]);
    apt(&install);
}

/// A free port on 127.0.0.1 (bound, then released for the server).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `redis-server` of its own: no persistence, its own directory; killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    extra: Vec<String>,
}

impl RedisServer {
    /// A server on a free port.
    pub fn start() -> Self {
        Self::start_with(free_port(), Vec::new())
    }

    fn start_with(port: u16, extra: Vec<String>) -> Self {
        let dir = std::env::temp_dir().join(format!("authorizer-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = RedisServer {
            child: None,
            port,
            dir,
            extra,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let (server, _) = binaries();
        let child = Command::new(server)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until the server answers PING (by completion: it either comes up or exits).
    fn wait_ready(&mut self) {
        loop {
            if self.cli(&["PING"]).is_some_and(|out| out.trim() == "PONG") {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|child| child.try_wait().unwrap()) {
                panic!("redis-server on port {} exited: {status}", self.port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis-cli` against this server: its output, `None` when it failed.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        cli(self.port, args)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (its data is gone: nothing is persisted).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Freezes the process (SIGSTOP): connections stay open, nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Thaws a frozen process (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn cli(port: u16, args: &[&str]) -> Option<String> {
    let (_, cli) = binaries();
    let out = Command::new(cli)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A 3-node Redis Cluster (masters only) on 127.0.0.1.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three `--cluster-enabled` servers, creates the cluster, and
    /// waits until every node says `cluster_state:ok`.
    pub fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                let port = free_port();
                let config = format!("nodes-{port}.conf");
                RedisServer::start_with(
                    port,
                    vec![
                        "--cluster-enabled".into(),
                        "yes".into(),
                        "--cluster-config-file".into(),
                        config,
                        "--cluster-node-timeout".into(),
                        "2000".into(),
                    ],
                )
            })
            .collect();
        let addresses: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())).collect();
        let mut create = vec!["--cluster", "create"];
        create.extend(addresses.iter().map(String::as_str));
        create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        cli(nodes[0].port(), &create).expect("redis-cli --cluster create");
        for node in &nodes {
            while !node
                .cli(&["CLUSTER", "INFO"])
                .is_some_and(|info| info.contains("cluster_state:ok"))
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        RedisCluster { nodes }
    }

    /// Every node's URL.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The hash slot of `key`.
    pub fn slot(&self, key: &str) -> u16 {
        self.nodes[0]
            .cli(&["CLUSTER", "KEYSLOT", key])
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// The servers.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }
}

//! A real registry for the tests: Debian's docker-registry on a free loopback port, its storage
//! in a temp folder, stopped when dropped; skopeo as the independent client; raw HTTP for what
//! no client would send.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Child,
    pub address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn require(tool: &str) -> bool {
    let ok = Process::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "{tool} is required in CI (scripts/test installs it)"
    );
    ok
}

/// Starts docker-registry on a free loopback port; with `htpasswd`, basic auth is required.
pub fn start_registry(htpasswd: Option<&str>) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\n",
        dir.path().join("data").display()
    );
    if let Some(file) = htpasswd {
        config.push_str(&format!("auth:\n  htpasswd:\n    realm: test\n    path: {file}\n"));
    }
    let config_path = dir.path().join("config.yml");
    std::fs::write(&config_path, config).unwrap();
    let child = Process::new("docker-registry")
        .arg("serve")
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&address).is_err() {
        assert!(Instant::now() < deadline, "docker-registry did not start on {address}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Registry {
        child,
        address,
        _dir: dir,
    }
}

pub fn skopeo(args: &[&str]) -> String {
    let out = Process::new("skopeo").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One plain HTTP/1.1 request to a loopback registry; returns the status and the response's
/// Location header, if any.
pub fn http(address: &str, method: &str, target: &str, content_type: &str, body: &[u8]) -> (u16, Option<String>) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    let status = response[9..12].parse().unwrap();
    let location = response
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Location: "))
        .map(|l| l.trim_start_matches(&format!("http://{address}")).to_owned());
    (status, location)
}

/// A proxy in front of `upstream` that answers 500 to each request whose request line `fails`
/// picks, and relays the rest; each request gets its own connection (the proxy asks for
/// `Connection: close`), so that every one is seen.
pub struct FaultyProxy {
    pub address: String,
}

pub fn faulty_proxy(upstream: String, fails: impl Fn(&str) -> bool + Send + Sync + 'static) -> FaultyProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let fails = std::sync::Arc::new(fails);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let (upstream, fails) = (upstream.clone(), fails.clone());
            std::thread::spawn(move || relay(client, &upstream, &*fails));
        }
    });
    FaultyProxy { address }
}

fn relay(mut client: TcpStream, upstream: &str, fails: &dyn Fn(&str) -> bool) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let request_line = text.lines().next().unwrap_or_default().to_owned();
    if fails(&request_line) {
        let _ =
            client.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let mut lines: Vec<&str> = text
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let head = format!("{}\r\n\r\n", lines.join("\r\n"));
    let Ok(mut server) = TcpStream::connect(upstream) else {
        return;
    };
    if server.write_all(head.as_bytes()).is_err() {
        return;
    }
    let (mut from_client, mut to_server) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
}

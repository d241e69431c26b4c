//! A static file server for `dist/` on 127.0.0.1, for people and for the e2e tests.

use std::path::{Component, Path, PathBuf};
use std::thread::JoinHandle;

use crate::{bundle, root, setup};

pub fn run(args: &[String]) -> Result<(), String> {
    let mut port = 8080;
    let mut build = true;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => {
                port = rest
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port needs a number")?;
            }
            "--no-build" => build = false,
            other => return Err(format!("unknown option {other} (see `cargo xtask`)")),
        }
    }
    if build {
        setup::web_tools()?;
        bundle::build()?;
    }
    let (url, handle) = start(port)?;
    println!("chainlens is served at {url}  (Ctrl-C stops it)");
    handle
        .join()
        .map_err(|_| "the server thread failed".to_string())
}

/// Starts serving `dist/` on 127.0.0.1:`port` (0 picks a free port) in a thread; returns the
/// base URL.
pub fn start(port: u16) -> Result<(String, JoinHandle<()>), String> {
    let dist = root().join("dist");
    if !dist.join("index.html").exists() {
        return Err("dist/ has no bundle; run `cargo xtask bundle` first".into());
    }
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let url = match server.server_addr().to_ip() {
        Some(addr) => format!("http://{addr}/"),
        None => return Err("the server has no IP address".into()),
    };
    let handle = std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let response = respond(&dist, request.url());
            let _ = request.respond(response);
        }
    });
    Ok((url, handle))
}

fn respond(dist: &Path, url: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let file = resolve(dist, path);
    match file.and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
        Some((file, bytes)) => {
            let mime = mime(&file);
            let header = tiny_http::Header::from_bytes("Content-Type", mime).ok();
            let mut response = tiny_http::Response::from_data(bytes);
            if let Some(h) = header {
                response.add_header(h);
            }
            response
        }
        None => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
    }
}

/// Maps a URL path to a file under `dist`, refusing anything that climbs out of it.
fn resolve(dist: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let file = dist.join(relative);
    if file.is_dir() {
        Some(file.join("index.html"))
    } else {
        Some(file)
    }
}

fn mime(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

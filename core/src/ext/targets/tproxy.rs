//! `-j TPROXY --on-port P [--on-ip A] [--tproxy-mark V/M]` (libxt_TPROXY, mangle PREROUTING):
//! hands the packet to a local transparent socket, unchanged; it ends the walk of this table.

use std::net::IpAddr;

use serde::Serialize;

use crate::ext::{Check, Options, Save, hex};
use crate::model::values::{port, value_mask};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tproxy {
    pub port: u16,
    pub ip: IpAddr,
    pub mark: u32,
    pub mask: u32,
}

pub type Value = Tproxy;
pub const NAME: &str = "TPROXY";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--on-port", "--on-ip", "--tproxy-mark"],
    two: &[],
};

pub fn new() -> Value {
    Tproxy {
        port: 0,
        ip: IpAddr::from([0, 0, 0, 0]),
        mark: 0,
        mask: 0,
    }
}

pub fn apply(t: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--on-port" => t.port = port(arg)?,
        "--on-ip" => {
            t.ip = arg
                .parse()
                .map_err(|_| format!("`{arg}` is not an IP address"))?
        }
        _ => (t.mark, t.mask) = value_mask(arg, u32::MAX)?,
    }
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    if !c.seen("--on-port") {
        Err("TPROXY needs --on-port".into())
    } else if !matches!(c.ctx.protocol, Some(6 | 17)) {
        Err("TPROXY needs -p tcp or -p udp".into())
    } else {
        Ok(())
    }
}

pub fn save(t: &Value, out: &mut Save, _: bool) {
    out.opt(false, "--on-port", &t.port.to_string());
    out.opt(false, "--on-ip", &t.ip.to_string());
    out.opt(
        false,
        "--tproxy-mark",
        &format!("{}/{}", hex(t.mark), hex(t.mask)),
    );
}

pub fn explain(t: &Value) -> String {
    format!(
        "hand the packet to a transparent proxy socket on port {} of this node, unchanged (this table is done with it)",
        t.port
    )
}

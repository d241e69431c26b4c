//! `-j` targets. The verdicts (ACCEPT, DROP, RETURN, QUEUE) and jumps to chains are the
//! walk's own; every other target is an extension in a file of its own, as iptables'
//! `libxt_*.c`: its typed value, options, final check, iptables-save form and what it does in
//! words. The [`registry!`] below lists them once; adding a target is a new file and one line
//! there. What the walk does with a target is in `sim::walk`, where a target it has no rule
//! for acts and lets the walk go on (LOG, CT, CHECKSUM…). Targets chainlens does not know are
//! kept as written in [`Action::Unknown`].

use serde::Serialize;

use super::{Check, Listed, RuleContext, Save};

mod checksum;
mod connmark;
mod ct;
mod dnat;
mod log;
mod mark;
mod masquerade;
mod nflog;
mod notrack;
mod redirect;
mod reject;
mod snat;
mod tcpmss;
mod tproxy;

pub use connmark::Connmark;
pub use ct::Ct;
pub use dnat::Nat;
pub use log::Log;
pub use mark::Xmark;
pub use masquerade::PortsNat;
pub use nflog::Nflog;
pub use tproxy::Tproxy;

/// Declares the extension targets: `Variant = file` makes `Action::Variant(file::Value)` and
/// routes every operation of [`Action`] to the functions of that file: `NAME`, `OPTIONS`,
/// `new`, `apply`, `check`, `save` and `explain`; `(listed)` after it says the file also reads
/// its `iptables -L` form back (`lists`, `listed`).
macro_rules! registry {
    ($($variant:ident = $file:ident $(($listed:ident))?),* $(,)?) => {
        /// What a target does, with its options.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        pub enum Action {
            Accept,
            Drop,
            Return,
            Queue,
            /// A jump (or goto) to the chain named by the target.
            Chain,
            $($variant($file::Value),)*
            Unknown(Vec<String>),
        }

        impl Action {
            /// A fresh action for `-j name`, before its options. `chain` says the table has
            /// a chain of that name, which then wins over an extension of the same name, as
            /// in iptables.
            pub fn load(name: &str, chain: bool) -> Action {
                if chain {
                    return Action::Chain;
                }
                match name {
                    "ACCEPT" => return Action::Accept,
                    "DROP" => return Action::Drop,
                    "RETURN" => return Action::Return,
                    "QUEUE" => return Action::Queue,
                    _ => {}
                }
                $(if name == $file::NAME {
                    return Action::$variant($file::new());
                })*
                if crate::model::EXTENSION_TARGETS.contains(&name) {
                    Action::Unknown(Vec::new())
                } else {
                    Action::Chain
                }
            }

            /// Option `opt` of this target: its `&'static` name and how many arguments it
            /// takes; `None` if it is not one of its options.
            pub fn option(&self, opt: &str) -> Option<(&'static str, usize)> {
                match self {
                    $(Action::$variant(_) => $file::OPTIONS.find(opt),)*
                    _ => None,
                }
            }

            /// Applies one option (already known to be this target's, with its arguments);
            /// `v6` for an ip6tables rule.
            pub fn apply(
                &mut self,
                opt: &str,
                negated: bool,
                args: &[&str],
                v6: bool,
            ) -> Result<(), String> {
                if negated {
                    return Err(format!("target option {opt} cannot be negated"));
                }
                match self {
                    $(Action::$variant(v) => $file::apply(v, opt, args, v6),)*
                    Action::Unknown(raw) => {
                        raw.push(opt.to_string());
                        raw.extend(args.iter().map(|a| a.to_string()));
                        Ok(())
                    }
                    Action::Accept | Action::Drop | Action::Return | Action::Queue | Action::Chain => {
                        Err(format!("this target takes no option {opt}"))
                    }
                }
            }

            /// Checks what must be present once all options are read; `seen` says which
            /// options were given.
            pub fn check(&self, seen: &dyn Fn(&str) -> bool, ctx: RuleContext) -> Result<(), String> {
                match self {
                    $(Action::$variant(v) => $file::check(v, &Check::of_target($file::NAME, seen, ctx)),)*
                    _ => Ok(()),
                }
            }

            /// The target's options as iptables-save prints them (after `-j NAME`).
            pub fn save_options(&self, v6: bool) -> String {
                let mut out = Save::default();
                match self {
                    $(Action::$variant(v) => $file::save(v, &mut out, v6),)*
                    Action::Unknown(raw) if !raw.is_empty() => {
                        out.opt(false, &super::save_raw(raw), "")
                    }
                    _ => {}
                }
                out.into_string()
            }

            /// Reads one word `iptables -L` printed for this target's options (taking any
            /// value after it from `l`); `None` if the target does not print that word.
            pub fn listed(&mut self, word: &str, l: &mut Listed) -> Option<Result<(), String>> {
                match self {
                    $($(Action::$variant(v) if $file::lists(word) => {
                        let _ = stringify!($listed);
                        Some($file::listed(v, word, l))
                    })?)*
                    _ => None,
                }
            }

            /// What an extension target does, in words (`None` for verdicts, chains and
            /// unknown targets, which the caller names).
            pub fn explain(&self) -> Option<String> {
                match self {
                    $(Action::$variant(v) => Some($file::explain(v)),)*
                    _ => None,
                }
            }
        }
    };
}

registry! {
    Reject = reject (listed),
    Mark = mark (listed),
    Connmark = connmark (listed),
    Dnat = dnat (listed),
    Snat = snat (listed),
    Masquerade = masquerade (listed),
    Redirect = redirect (listed),
    Log = log,
    Nflog = nflog (listed),
    Ct = ct,
    Notrack = notrack,
    Tproxy = tproxy,
    Checksum = checksum,
    Tcpmss = tcpmss,
}

/// A number from 0 to `max`.
fn bounded(arg: &str, max: u64) -> Result<u64, String> {
    match arg.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("`{arg}` is not a number from 0 to {max}")),
    }
}

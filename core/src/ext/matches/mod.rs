//! `-m` matches, one file each as iptables' `libxt_*.c`: the typed value, its options and how
//! many arguments each takes, what `final_check` would refuse, the iptables-save form, what it
//! means in words, and how it tests a packet. The [`registry!`] below lists them once; adding
//! a match is a new file and one line there. Modules chainlens does not know are kept as
//! written in [`Match::Unknown`], never dropped.

use serde::Serialize;

use super::{Check, Listed, Options, RuleContext, Save};
use crate::sim::eval::Eval;

mod addrtype;
mod comment;
mod connmark;
mod conntrack;
mod icmp;
mod icmp6;
mod limit;
mod mac;
mod mark;
mod multiport;
mod nfacct;
mod physdev;
mod recent;
mod set;
mod socket;
mod state;
mod statistic;
mod tcp;
mod udp;

pub use addrtype::{ADDR_TYPES, Addrtype};
pub use conntrack::{CT_STATES, CT_STATUS, Conntrack, CtStates};
pub use limit::Limit;
pub use multiport::{Multiport, PortSide};
pub use physdev::Physdev;
pub use recent::{Recent, RecentCommand};
pub use set::SetMatch;
pub use statistic::Statistic;
pub use tcp::Tcp;
pub use udp::Ports;

/// The module name of an [`Match::Unknown`] that holds `iptables -L` text chainlens could not
/// read (it is not an iptables module).
pub const LISTING_TEXT: &str = "listing";

/// Declares the matches chainlens models: `Variant = file` makes `Match::Variant(file::Value)`
/// and routes every operation of [`Match`] to the functions of that file: `NAME`, `OPTIONS`,
/// `new`, `apply`, `check`, `save`, `explain` and `eval`; `(listed)` after it says the file
/// also reads its `iptables -L` form back: the words that open it (`LISTED`) and `listed`.
macro_rules! registry {
    ($($variant:ident = $file:ident $(($listed:ident))?),* $(,)?) => {
        /// One `-m NAME …` of a rule.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        pub enum Match {
            $($variant($file::Value),)*
            Unknown {
                module: String,
                args: Vec<String>,
            },
        }

        impl Match {
            /// A fresh match for `-m module`; modules chainlens does not model are kept as
            /// written in `Unknown`.
            pub fn load(module: &str) -> Match {
                $(if module == $file::NAME {
                    return Match::$variant($file::new());
                })*
                Match::Unknown {
                    module: module.to_string(),
                    args: Vec::new(),
                }
            }

            /// The module name after `-m`.
            pub fn module(&self) -> &str {
                match self {
                    $(Match::$variant(_) => $file::NAME,)*
                    Match::Unknown { module, .. } => module,
                }
            }

            /// Option `opt` of this match: its `&'static` name and how many arguments it
            /// takes; `None` if it is not one of its options. Unknown modules claim nothing
            /// (the rule reader keeps their words as written).
            pub fn option(&self, opt: &str) -> Option<(&'static str, usize)> {
                match self {
                    $(Match::$variant(_) => $file::OPTIONS.find(opt),)*
                    Match::Unknown { .. } => None,
                }
            }

            /// Applies one option (already known to be this match's, with its arguments).
            pub fn apply(&mut self, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
                match self {
                    $(Match::$variant(v) => $file::apply(v, opt, negated, args),)*
                    Match::Unknown { args: raw, .. } => {
                        if negated {
                            raw.push("!".into());
                        }
                        raw.push(opt.to_string());
                        raw.extend(args.iter().map(|a| a.to_string()));
                        Ok(())
                    }
                }
            }

            /// Checks what must be present once all options are read (what iptables'
            /// `final_check` would refuse); `seen` says which options were given.
            pub fn check(&self, seen: &dyn Fn(&str) -> bool, ctx: RuleContext) -> Result<(), String> {
                match self {
                    $(Match::$variant(v) => $file::check(v, &Check::of_match($file::NAME, seen, ctx)),)*
                    Match::Unknown { .. } => Ok(()),
                }
            }

            /// The match as iptables-save prints it, without the leading `-m NAME`.
            pub fn save_options(&self) -> String {
                let mut out = Save::default();
                match self {
                    $(Match::$variant(v) => $file::save(v, &mut out),)*
                    Match::Unknown { args, .. } => {
                        if !args.is_empty() {
                            out.opt(false, &super::save_raw(args), "");
                        }
                    }
                }
                out.into_string()
            }

            /// What the match asks of a packet, in words (`None`: it asks nothing, as a
            /// comment).
            pub fn explain(&self) -> Option<String> {
                match self {
                    $(Match::$variant(v) => $file::explain(v),)*
                    Match::Unknown { module, .. } => {
                        Some(format!("matching -m {module} (not interpreted by chainlens)"))
                    }
                }
            }

            /// The match `iptables -L` printed from `word` on (`negated`: after a lone `!`),
            /// taking its words from `l`; `None` if no match prints itself so.
            pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Option<Result<Match, String>> {
                $($(
                    let _ = stringify!($listed);
                    if $file::LISTED.contains(&word) {
                        return Some($file::listed(word, negated, l).map(Match::$variant));
                    }
                )?)*
                None
            }

            /// Tests the packet `e` holds, narrowing its alternatives.
            pub(crate) fn eval<'r>(&'r self, e: &mut Eval<'_, '_, 'r>) {
                match self {
                    $(Match::$variant(v) => $file::eval(v, e),)*
                    Match::Unknown { module, args } => {
                        e.undecided(crate::sim::Undecidable::Module { module, args })
                    }
                }
            }
        }
    };
}

registry! {
    Comment = comment,
    Mark = mark (listed),
    Tcp = tcp (listed),
    Udp = udp (listed),
    Multiport = multiport (listed),
    Addrtype = addrtype (listed),
    Physdev = physdev (listed),
    Conntrack = conntrack (listed),
    Connmark = connmark (listed),
    State = state (listed),
    Statistic = statistic (listed),
    Recent = recent (listed),
    Set = set (listed),
    Limit = limit,
    Nfacct = nfacct (listed),
    Icmp = icmp,
    Icmp6 = icmp6,
    Mac = mac,
    Socket = socket,
}

/// `Err` for a lone `!` in a listing before a match that does not print one there.
fn no_listed_negation(negated: bool, word: &str) -> Result<(), String> {
    if negated {
        Err(format!(
            "`! {word}` in the listing's match text is not understood"
        ))
    } else {
        Ok(())
    }
}

/// `Err` for a `!` before an option that cannot be negated.
fn no_negation(negated: bool, opt: &str) -> Result<(), String> {
    if negated {
        Err(format!("{opt} cannot be negated"))
    } else {
        Ok(())
    }
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a valid number here"))
}

/// The names of the bits set in `bits`, comma-joined in `names`' order.
fn join_bits(bits: u32, names: &[&str]) -> String {
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

/// "not " for a negated test.
fn not(negated: bool) -> &'static str {
    if negated { "not " } else { "" }
}

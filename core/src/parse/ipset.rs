//! `ipset list` blocks (`Name:` … `Members:` and one member per line) and `ipset save` lines
//! (`create NAME TYPE …`, `add NAME ENTRY …`) pasted with the rules.

use crate::diag::Diagnostic;
use crate::model::ipset::{self, IpSet};
use crate::text::Span;

#[derive(Default)]
pub(super) struct Reader {
    pub sets: Vec<IpSet>,
    /// The `ipset list` block being read: its set's index, whether its members started, and
    /// the entry count its header gave.
    open: Option<Open>,
}

struct Open {
    set: usize,
    members: bool,
    entries: Option<usize>,
}

impl Reader {
    /// Takes the line if it is ipset output; false when it is not.
    pub fn line(&mut self, line: &str, span: Span, diagnostics: &mut Vec<Diagnostic>) -> bool {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("Name: ") {
            self.close();
            self.sets.push(IpSet {
                name: name.trim().to_string(),
                kind: String::new(),
                dims: Vec::new(),
                members: Vec::new(),
                span,
                complete: true,
            });
            self.open = Some(Open {
                set: self.sets.len() - 1,
                members: false,
                entries: None,
            });
            return true;
        }
        if let Some(open) = &mut self.open {
            let set = &mut self.sets[open.set];
            if !open.members {
                if let Some(kind) = t.strip_prefix("Type: ") {
                    set.kind = kind.trim().to_string();
                    set.dims = IpSet::dims_of(&set.kind);
                } else if let Some(n) = t.strip_prefix("Number of entries: ") {
                    open.entries = n.trim().parse().ok();
                } else if t == "Members:" {
                    open.members = true;
                } else if !["Revision:", "Header:", "Size in memory:", "References:"]
                    .iter()
                    .any(|h| t.starts_with(h))
                {
                    self.close();
                    return false;
                }
                return true;
            }
            if t.is_empty() {
                self.close();
                return true;
            }
            // A line that is no member ends the block (the next command's output).
            let member = ipset::member(t, &set.dims);
            if member.is_err() && (set.members.is_empty() || t.contains(' ') && !t.contains(',')) {
                self.close();
                return false;
            }
            add(set, member, span, diagnostics);
            return true;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        match words.as_slice() {
            ["create", name, kind, ..] if kind.contains(':') => {
                self.sets.push(IpSet {
                    name: name.to_string(),
                    kind: kind.to_string(),
                    dims: IpSet::dims_of(kind),
                    members: Vec::new(),
                    span,
                    complete: true,
                });
                true
            }
            ["add", name, entry, rest @ ..] => {
                let Some(set) = self.sets.iter_mut().rev().find(|s| s.name == *name) else {
                    return false;
                };
                let text = std::iter::once(*entry)
                    .chain(rest.iter().copied())
                    .collect::<Vec<_>>()
                    .join(" ");
                let member = ipset::member(&text, &set.dims);
                add(set, member, span, diagnostics);
                true
            }
            _ => false,
        }
    }

    /// Ends an `ipset list` block: a set whose listing shows fewer members than its header
    /// counts is incomplete.
    pub fn close(&mut self) {
        if let Some(open) = self.open.take() {
            let set = &mut self.sets[open.set];
            if !open.members || open.entries.is_some_and(|n| n != set.members.len()) {
                set.complete = false;
            }
        }
    }
}

/// Adds a member read, or says it was not and marks the set incomplete.
fn add(
    set: &mut IpSet,
    member: Result<ipset::Member, String>,
    span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match member {
        Ok(m) => set.members.push(m),
        Err(e) => {
            set.complete = false;
            diagnostics.push(Diagnostic::warning(
                "bad-ipset-member",
                span,
                format!("member of ipset `{}` not read: {e}", set.name),
            ));
        }
    }
}

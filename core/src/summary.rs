//! The count line every view starts from: tables, chains, rules and diagnostics.

use serde::Serialize;

use crate::diag::Severity;
use crate::parse::Parsed;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub format: &'static str,
    pub tables: Vec<TableCount>,
    /// `conntrack -L` entries in the paste.
    pub conntrack: usize,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableCount {
    pub name: String,
    pub chains: usize,
    pub rules: usize,
}

impl Summary {
    pub fn of(parsed: &Parsed) -> Self {
        let count = |s| {
            parsed
                .diagnostics
                .iter()
                .filter(|d| d.severity == s)
                .count()
        };
        Summary {
            format: parsed.format.as_str(),
            tables: parsed
                .ruleset
                .tables
                .iter()
                .filter(|t| !t.assumed())
                .map(|t| TableCount {
                    name: t.name.clone(),
                    chains: t.chains.iter().filter(|c| !c.assumed).count(),
                    rules: t.rule_count(),
                })
                .collect(),
            conntrack: parsed.conntrack.len(),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            diagnostics: parsed.diagnostics.len(),
        }
    }

    pub fn chains(&self) -> usize {
        self.tables.iter().map(|t| t.chains).sum()
    }

    pub fn rules(&self) -> usize {
        self.tables.iter().map(|t| t.rules).sum()
    }
}

impl std::fmt::Display for Summary {
    /// `3 tables, 46 chains, 71 rules, 0 diagnostics (nat 29/58, filter 10/13, mangle 7/0)`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tables, {} chains, {} rules, {} diagnostics",
            self.tables.len(),
            self.chains(),
            self.rules(),
            self.diagnostics
        )?;
        if self.conntrack > 0 {
            write!(f, ", {} conntrack entries", self.conntrack)?;
        }
        if !self.tables.is_empty() {
            let per: Vec<String> = self
                .tables
                .iter()
                .map(|t| format!("{} {}/{}", t.name, t.chains, t.rules))
                .collect();
            write!(f, " ({})", per.join(", "))?;
        }
        Ok(())
    }
}

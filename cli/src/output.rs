//! Everything the CLI prints goes through here: user text is made [`printable`] (no terminal
//! escapes from a pasted comment), a closed pipe (`chainlens … | head`) ends the program
//! quietly, and any other write error (a full disk) is reported with exit status 1.

use std::io::Write as _;

use chainlens_core::text::printable;

/// Writes `text` to standard output.
pub fn out(text: &str) {
    let result = std::io::stdout()
        .write_all(printable(text).as_bytes())
        .and_then(|()| std::io::stdout().flush());
    if let Err(e) = result {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        err(&format!("cannot write the output: {e}"));
        std::process::exit(1);
    }
}

/// Writes `chainlens: message` to standard error.
pub fn err(message: &str) {
    let _ = writeln!(std::io::stderr(), "chainlens: {}", printable(message));
}

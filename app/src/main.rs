//! The chainlens browser app: in the page it mounts [`app::App`]; started in a Web Worker
//! (`worker.js`), the same module serves the page's analysis questions instead.

mod analysis;
mod app;
mod components;
mod examples;
mod views;
mod worker;

/// Parses `text` and returns how many rules were read: the entry point `cargo xtask bench`
/// times in the browser, so the figure is the real bundle's parser.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = chainlensParse)]
pub fn chainlens_parse(text: &str) -> usize {
    chainlens_core::read(text)
        .ruleset
        .tables
        .iter()
        .map(|t| t.rule_count())
        .sum()
}

/// A parsed ruleset kept for the benchmarks `cargo xtask bench` runs in the browser
/// (`new ChainlensBench(text)`, then `trace(dst, dport, n)` or `analyze()`), so the figures are
/// the real bundle's.
#[derive(Debug)]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = ChainlensBench)]
pub struct ChainlensBench {
    parsed: chainlens_core::parse::Parsed,
}

#[wasm_bindgen::prelude::wasm_bindgen(js_class = ChainlensBench)]
impl ChainlensBench {
    #[wasm_bindgen::prelude::wasm_bindgen(constructor)]
    pub fn new(text: &str) -> ChainlensBench {
        ChainlensBench {
            parsed: chainlens_core::read(text),
        }
    }

    /// The full Kubernetes analysis (Services, cascades, findings); returns the number of
    /// Service ports found.
    pub fn analyze(&self) -> usize {
        let (facts, _) = chainlens_core::sim::NodeFacts::infer(&self.parsed.ruleset);
        chainlens_core::kube::Analysis::of(&self.parsed.ruleset, &facts)
            .services
            .len()
    }

    /// Builds one simulator and traces `n` TCP packets from outside (198.51.100.20) to
    /// `dst:dport`; returns the outcomes of the last trace (0 for a bad address).
    pub fn trace(&self, dst: &str, dport: u16, n: usize) -> usize {
        use chainlens_core::model::values::Protocol;
        use chainlens_core::sim::{Entry, Packet, Simulator};

        let Ok(dst) = dst.parse() else { return 0 };
        let (facts, _) = chainlens_core::sim::NodeFacts::infer(&self.parsed.ruleset);
        let packet = Packet::new(
            std::net::IpAddr::from([198, 51, 100, 20]),
            dst,
            Protocol::TCP,
            dport,
            Entry::Outside,
        );
        let simulator = Simulator::new(&self.parsed.ruleset);
        (0..n).fold(0, |_, _| simulator.run(&packet, &facts).outcomes.len())
    }
}

/// A test hook: asks the analysis worker to panic, as a bug would make it; the e2e suite
/// checks that the page says so, drops what it showed, and works on with a new worker.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = chainlensCrashWorker)]
pub fn chainlens_crash_worker() {
    worker::client::ask(worker::Ask::Crash, None, |_| {});
}

fn main() {
    if web_sys::window().is_some() {
        console_error_panic_hook::set_once();
        leptos::mount::mount_to_body(app::App);
    } else {
        worker::serve();
    }
}

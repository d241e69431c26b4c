//! Share links: the whole state of an analysis (the pasted text, the view, the chosen Service,
//! the trace and the conntrack plan) in a URL fragment, which browsers never send to a server.
//! The state is JSON, deflated and base64url-encoded behind a format version:
//! `#s=1.<payload>[&embed=VIEW][&theme=light|dark]`. Decoding is bounded (link length and
//! inflated size), so a truncated, corrupted, foreign or hostile link gives a clear error.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The format this build writes; links of other versions are refused with a message.
pub const VERSION: u32 = 1;
/// Links longer than this are refused before decoding (share a file instead).
pub const MAX_LINK: usize = 512 * 1024;
/// The most a link may inflate to: above this it is refused as a decompression bomb.
pub const MAX_STATE: usize = 32 * 1024 * 1024;
/// Chat tools and browsers get unreliable above this link length.
pub const LONG_LINK: usize = 8 * 1024;

/// A packet to trace, as the tracer form holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceQuery {
    pub from: String,
    pub src: String,
    pub dst: String,
    pub proto: String,
    pub dport: String,
    /// Empty for the default 40000.
    pub sport: String,
    /// The interface the packet arrives on; empty for the node's default.
    pub in_iface: String,
    pub local_ips: String,
    pub which: String,
}

/// A conntrack plan, as the planner form holds it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Plan {
    pub target: String,
    pub rate: String,
    /// Ramp from this rate to `rate` over `ramp_over` seconds; empty for a constant rate.
    pub ramp_from: String,
    pub ramp_over: String,
    pub duration: String,
    pub kernel: String,
    pub flows: bool,
    pub reuse: bool,
    pub measured: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShareState {
    pub input: String,
    /// The second ruleset of the Compare view.
    pub compare: String,
    pub view: String,
    pub table: Option<String>,
    pub service: Option<String>,
    pub trace: Option<TraceQuery>,
    pub conntrack: Option<Plan>,
}

/// What a link asks for besides the state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Display {
    /// Show only this view, without the app around it.
    pub embed: Option<String>,
    /// `light` or `dark`; `None` follows the system.
    pub theme: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareError {
    /// The fragment holds no `s=` state.
    NoState,
    TooLong(usize),
    UnknownVersion(String),
    /// Not base64url, or cut off.
    Corrupt(String),
    /// Inflates past [`MAX_STATE`].
    TooLarge,
    /// Decodes, but is not a chainlens state.
    NotState(String),
}

impl std::fmt::Display for ShareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShareError::NoState => write!(f, "this link holds no chainlens analysis"),
            ShareError::TooLong(n) => write!(
                f,
                "this link is {:.1} MB long; links over {} KB are refused — share the analysis as a file instead",
                *n as f64 / 1e6,
                MAX_LINK / 1024
            ),
            ShareError::UnknownVersion(v) => write!(
                f,
                "this link was made by a chainlens with link format `{v}`, which this version does not know (it reads format {VERSION})"
            ),
            ShareError::Corrupt(why) => write!(
                f,
                "this link is damaged or cut off ({why}); copy it again, whole"
            ),
            ShareError::TooLarge => write!(
                f,
                "this link unpacks to more than {} MB and was refused (a decompression bomb, or not a chainlens link)",
                MAX_STATE / (1024 * 1024)
            ),
            ShareError::NotState(why) => {
                write!(f, "this link does not hold a chainlens analysis ({why})")
            }
        }
    }
}

/// The state as the `s=` value: `1.<base64url(deflate(json))>`.
pub fn encode(state: &ShareState) -> String {
    let json = serde_json::to_vec(state).unwrap_or_default();
    let packed = miniz_oxide::deflate::compress_to_vec(&json, 9);
    format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(packed))
}

/// A whole fragment (without `#`): the state plus how to display it.
pub fn fragment(state: &ShareState, display: &Display) -> String {
    let mut out = format!("s={}", encode(state));
    if let Some(view) = &display.embed {
        out.push_str(&format!("&embed={view}"));
    }
    if let Some(theme) = &display.theme {
        out.push_str(&format!("&theme={theme}"));
    }
    out
}

/// Reads a fragment (with or without the leading `#`).
pub fn parse_fragment(fragment: &str) -> Result<(ShareState, Display), ShareError> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if fragment.len() > MAX_LINK {
        return Err(ShareError::TooLong(fragment.len()));
    }
    let mut display = Display::default();
    let mut state = None;
    for part in fragment.split('&') {
        match part.split_once('=') {
            Some(("s", value)) => state = Some(value),
            Some(("embed", view)) => display.embed = Some(view.to_string()),
            Some(("theme", theme)) if matches!(theme, "light" | "dark") => {
                display.theme = Some(theme.to_string())
            }
            _ => {}
        }
    }
    let state = decode(state.ok_or(ShareError::NoState)?)?;
    Ok((state, display))
}

/// Reads an `s=` value.
pub fn decode(value: &str) -> Result<ShareState, ShareError> {
    if value.len() > MAX_LINK {
        return Err(ShareError::TooLong(value.len()));
    }
    let (version, payload) = value
        .split_once('.')
        .ok_or_else(|| ShareError::Corrupt("no format version".into()))?;
    if version != VERSION.to_string() {
        return Err(ShareError::UnknownVersion(
            version.chars().take(12).collect(),
        ));
    }
    let packed = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| ShareError::Corrupt(e.to_string()))?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_STATE).map_err(
        |e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => ShareError::TooLarge,
            _ => ShareError::Corrupt("the compressed data ends early or is invalid".into()),
        },
    )?;
    serde_json::from_slice(&json).map_err(|e| ShareError::NotState(e.to_string()))
}

/// The analysis as a file the app opens again (by drop or the file picker): for states too
/// long for a link.
pub fn to_file(state: &ShareState) -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "chainlens": VERSION, "state": state }))
        .unwrap_or_default()
}

/// Reads a file written by [`to_file`]; `None` when the text is not one (it is then rules).
pub fn from_file(text: &str) -> Option<Result<ShareState, ShareError>> {
    if !text.trim_start().starts_with("{\"chainlens\"")
        && !text.trim_start().starts_with("{\n  \"chainlens\"")
    {
        return None;
    }
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Some(Err(ShareError::NotState(e.to_string()))),
    };
    if value["chainlens"].as_u64() != Some(u64::from(VERSION)) {
        return Some(Err(ShareError::UnknownVersion(
            value["chainlens"].to_string(),
        )));
    }
    Some(
        serde_json::from_value(value["state"].clone())
            .map_err(|e| ShareError::NotState(e.to_string())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ShareState {
        ShareState {
            input: "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n".repeat(20),
            view: "trace".into(),
            service: Some("default/dns:dns".into()),
            trace: Some(TraceQuery {
                dst: "10.5.6.29".into(),
                dport: "53".into(),
                ..TraceQuery::default()
            }),
            ..ShareState::default()
        }
    }

    #[test]
    fn a_state_survives_the_round_trip_and_hides_the_rules() {
        let display = Display {
            embed: Some("graph".into()),
            theme: Some("dark".into()),
        };
        let f = fragment(&state(), &display);
        assert!(!f.contains("PREROUTING") && !f.contains("10.5.6.29"));
        assert_eq!(parse_fragment(&format!("#{f}")), Ok((state(), display)));
    }

    #[test]
    fn bad_links_say_what_is_wrong() {
        let good = encode(&state());
        let cut = &good[..good.len() / 2];
        assert!(
            matches!(decode(cut), Err(ShareError::Corrupt(_))),
            "{:?}",
            decode(cut)
        );
        let mut flipped = good.clone().into_bytes();
        let mid = flipped.len() / 2;
        flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap_or_default();
        assert!(decode(&flipped).is_err());
        assert!(
            matches!(decode(&good.replacen("1.", "7.", 1)), Err(ShareError::UnknownVersion(v)) if v == "7")
        );
        assert_eq!(parse_fragment("#embed=graph"), Err(ShareError::NoState));
        assert!(matches!(decode("1.!!!"), Err(ShareError::Corrupt(_))));
        let long = format!("s=1.{}", "A".repeat(MAX_LINK));
        assert!(matches!(parse_fragment(&long), Err(ShareError::TooLong(_))));
        // Valid JSON that is not a state.
        let other = format!(
            "1.{}",
            URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(b"[1,2]", 6))
        );
        assert!(matches!(decode(&other), Err(ShareError::NotState(_))));
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        let bomb = vec![b' '; MAX_STATE + 1024];
        let packed = miniz_oxide::deflate::compress_to_vec(&bomb, 10);
        assert!(packed.len() < 64 * 1024, "{}", packed.len());
        let link = format!("1.{}", URL_SAFE_NO_PAD.encode(packed));
        assert_eq!(decode(&link), Err(ShareError::TooLarge));
    }

    #[test]
    fn files_round_trip() {
        let file = to_file(&state());
        assert_eq!(from_file(&file), Some(Ok(state())));
        assert_eq!(from_file("*nat\nCOMMIT\n"), None);
    }

    #[test]
    fn no_input_makes_decoding_panic() {
        let mut rng = crate::rng::SplitMix64::new(5);
        let good = fragment(&state(), &Display::default());
        let alphabet: Vec<char> = "s=1.&embedthm-_ABCxyz0123456789!%#".chars().collect();
        for round in 0..4000 {
            let text: String = if round % 2 == 0 {
                // Random words from link-like characters.
                (0..rng.below(80))
                    .map(|_| alphabet[rng.below(alphabet.len() as u32) as usize])
                    .collect()
            } else {
                // A valid link with a few bytes changed or cut.
                let mut bytes = good.clone().into_bytes();
                for _ in 0..=rng.below(4) {
                    let at = rng.below(bytes.len() as u32) as usize;
                    bytes[at] = b"AZaz09-_.=&"[rng.below(11) as usize];
                }
                bytes.truncate(bytes.len() - rng.below(8) as usize);
                String::from_utf8(bytes).unwrap_or_default()
            };
            let _ = parse_fragment(&text);
        }
    }
}

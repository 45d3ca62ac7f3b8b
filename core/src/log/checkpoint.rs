//! The checkpoint: the C2SP tlog-checkpoint body that the log key signs as a signed note.
//!
//! ```text
//! <origin>\n
//! <tree size, decimal>\n
//! <root hash, base64 (standard alphabet, padded)>\n
//! [<extension line>\n ...]
//! ```
//! starmark writes no extension lines; a parser keeps any it finds (each non-empty).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine;

use crate::error::LogError;
use crate::log::merkle::Hash;

/// The base64 of checkpoints and notes: standard alphabet, padding required, canonical.
pub(crate) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A checkpoint body: which log, how many entries, and the root of its tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin (also the name of the key that signs it).
    pub origin: String,
    /// The number of entries.
    pub size: u64,
    /// The root hash of the tree of `size` entries.
    pub root: Hash,
    /// Extension lines after the root (starmark writes none).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The body text, every line ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str(&self.origin);
        s.push('\n');
        s.push_str(&self.size.to_string());
        s.push('\n');
        s.push_str(&B64.encode(self.root));
        s.push('\n');
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a body: a non-empty origin, a decimal size without leading zeros that fits 64
    /// bits, a canonical base64 root of 32 bytes, then non-empty extension lines; every line
    /// ends in `\n`; no control character but the line ends. Never panics.
    pub fn parse(text: &str) -> Result<Checkpoint, LogError> {
        let bad = |line, why| LogError::MalformedCheckpoint { line, why };
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(bad(0, "holds a control character"));
        }
        let Some(body) = text.strip_suffix('\n') else {
            return Err(bad(0, "does not end with a line feed"));
        };
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(bad(1, "empty origin"));
        }
        let size_line = lines.next().ok_or(bad(2, "no tree size"))?;
        let canonical_number = !size_line.is_empty()
            && size_line.bytes().all(|b| b.is_ascii_digit())
            && (size_line == "0" || !size_line.starts_with('0'));
        let size = size_line
            .parse::<u64>()
            .ok()
            .filter(|_| canonical_number)
            .ok_or(bad(
                2,
                "tree size is not a decimal number without leading zeros",
            ))?;
        let root_line = lines.next().ok_or(bad(3, "no root hash"))?;
        let root: Hash = B64
            .decode(root_line)
            .ok()
            .filter(|raw| B64.encode(raw) == root_line)
            .and_then(|raw| raw.try_into().ok())
            .ok_or(bad(3, "root hash is not the base64 of 32 bytes"))?;
        let mut extensions = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(bad(4 + i, "empty extension line"));
            }
            extensions.push(line.to_string());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    #[test]
    fn text_round_trips() {
        let cp = Checkpoint {
            origin: "label.example.cn/log".into(),
            size: 42,
            root: [0xab; 32],
            extensions: Vec::new(),
        };
        let text = cp.to_text();
        assert_eq!(
            text,
            "label.example.cn/log\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"
        );
        assert_eq!(Checkpoint::parse(&text), Ok(cp.clone()));
        let with = Checkpoint {
            extensions: vec!["ext one".into()],
            ..cp
        };
        assert_eq!(Checkpoint::parse(&with.to_text()), Ok(with));
    }

    #[test]
    fn malformed_bodies_are_refused_naming_the_line() {
        let root = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";
        let cases = [
            (
                String::from("a\n1\n") + root,
                "checkpoint: line 0: does not end with a line feed",
            ),
            (
                String::from("\n1\n") + root + "\n",
                "checkpoint: line 1: empty origin",
            ),
            (String::from("a\n"), "checkpoint: line 2: no tree size"),
            (
                String::from("a\n01\n") + root + "\n",
                "checkpoint: line 2: tree size is not a decimal number without leading zeros",
            ),
            (
                String::from("a\n+1\n") + root + "\n",
                "checkpoint: line 2: tree size is not a decimal number without leading zeros",
            ),
            (
                String::from("a\n18446744073709551616\n") + root + "\n",
                "checkpoint: line 2: tree size is not a decimal number without leading zeros",
            ),
            (String::from("a\n1\n"), "checkpoint: line 3: no root hash"),
            (
                String::from("a\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6t=\n"),
                "checkpoint: line 3: root hash is not the base64 of 32 bytes",
            ),
            (
                String::from("a\n1\nq6ur\n"),
                "checkpoint: line 3: root hash is not the base64 of 32 bytes",
            ),
            (
                String::from("a\n1\n") + root + "\n\n",
                "checkpoint: line 4: empty extension line",
            ),
            (
                String::from("a\r\n1\n") + root + "\n",
                "checkpoint: line 0: holds a control character",
            ),
        ];
        for (text, error) in cases {
            assert_eq!(
                Checkpoint::parse(&text).unwrap_err().to_string(),
                error,
                "{text:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(t in "[a-z0-9+/=\\n ]{0,80}") {
            if let Ok(cp) = Checkpoint::parse(&t) {
                prop_assert_eq!(cp.to_text(), t);
            }
        }
    }
}

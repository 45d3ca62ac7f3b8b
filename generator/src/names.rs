//! Manufacturer names that imitate one another across records.
//!
//! Each record's texts pass the display-text rules on their own (`starmark_core::text`); this
//! compares records: a manufacturer name whose UTS #39 confusable skeleton equals that of a
//! different manufacturer name in a record of lower serial imitates it ("АВВ" in Cyrillic and
//! "ABB", "Autornation" and "Automation", "XL0NG" and "XLONG"), and `sign` and `build` refuse
//! it. The first record (lowest serial) to use a skeleton keeps it; the same name exactly is the
//! same manufacturer. The skeleton table is large, so it lives here and not in the verifier.

use std::collections::HashMap;
use std::path::Path;

/// The UTS #39 skeleton of a name (NFD, default-ignorables removed, each character mapped to its
/// confusable prototype, NFD again).
pub fn skeleton(name: &str) -> String {
    unicode_security::skeleton(name).collect()
}

/// The manufacturer names of a registry, by skeleton, to find look-alikes.
#[derive(Default)]
pub struct Makers<'a> {
    /// Skeleton -> the first record (by serial) using it: serial, name, path.
    first: HashMap<String, (u64, &'a str, &'a Path)>,
    /// Name -> skeleton: each distinct name is reduced once.
    skeletons: HashMap<&'a str, String>,
}

/// A manufacturer name that imitates another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookAlike<'a> {
    /// The name imitated.
    pub name: &'a str,
    /// The serial of the first record with that name.
    pub serial: u64,
    /// Its file.
    pub path: &'a Path,
}

impl<'a> Makers<'a> {
    /// Builds the index from every record: serial, manufacturer name and file.
    pub fn new(records: impl IntoIterator<Item = (u64, &'a str, &'a Path)>) -> Makers<'a> {
        let mut all: Vec<(u64, &'a str, &'a Path)> = records.into_iter().collect();
        all.sort_by_key(|(serial, _, _)| *serial);
        let mut makers = Makers::default();
        for (serial, name, path) in all {
            let sk = makers
                .skeletons
                .entry(name)
                .or_insert_with(|| skeleton(name));
            if !makers.first.contains_key(sk.as_str()) {
                makers.first.insert(sk.clone(), (serial, name, path));
            }
        }
        makers
    }

    /// The name that `name` (in the record of this serial) imitates: a different name with the
    /// same skeleton in a record of lower serial. `None` when the name is the first with its
    /// skeleton, or is the same name exactly.
    pub fn imitated(&self, serial: u64, name: &str) -> Option<LookAlike<'a>> {
        let sk = match self.skeletons.get(name) {
            Some(sk) => std::borrow::Cow::Borrowed(sk.as_str()),
            None => std::borrow::Cow::Owned(skeleton(name)),
        };
        let &(first_serial, first_name, path) = self.first.get(sk.as_ref())?;
        (first_serial < serial && first_name != name).then_some(LookAlike {
            name: first_name,
            serial: first_serial,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeletons_of_look_alikes_are_equal() {
        assert_eq!(skeleton("\u{410}\u{412}\u{412}"), skeleton("ABB"));
        assert_eq!(
            skeleton("Rheinfeld Autornation"),
            skeleton("Rheinfeld Automation")
        );
        assert_eq!(skeleton("XL0NG"), skeleton("XLONG"));
        assert_eq!(skeleton("TP-L\u{0131}nk"), skeleton("TP-Link"));
        assert_ne!(skeleton("TP-Link"), skeleton("TP-Line"));
        assert_ne!(
            skeleton("深圳市星联科技有限公司"),
            skeleton("深圳市星连科技有限公司")
        );
    }

    #[test]
    fn the_lowest_serial_keeps_the_name() {
        let (a, b, c) = (Path::new("a.md"), Path::new("b.md"), Path::new("c.md"));
        let makers = Makers::new([(7, "XL0NG", b), (3, "XLONG", a), (9, "XLONG", c)]);
        assert_eq!(
            makers.imitated(7, "XL0NG"),
            Some(LookAlike {
                name: "XLONG",
                serial: 3,
                path: a
            })
        );
        assert_eq!(makers.imitated(3, "XLONG"), None);
        assert_eq!(makers.imitated(9, "XLONG"), None, "same name, same maker");
        assert_eq!(makers.imitated(1, "XL0NG"), None, "first to use it");
        assert_eq!(makers.imitated(8, "Other"), None);
        assert_eq!(
            makers.imitated(8, "\u{425}LONG").map(|l| l.serial),
            Some(3),
            "a name not in the index is compared too"
        );
    }
}

//! What a check remembers for the next one (`--state FILE`): each listing's result and the
//! highest revocation list sequence seen, so the next report's `changed` column says what is
//! news and an older revocation list is refused as a rollback.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use starmark_core::listings::{Outcome, RowResult};

/// The state file's `format`.
pub const FORMAT: &str = "starmark-listings-state-1";

/// One run's results.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// [`FORMAT`].
    pub format: String,
    /// The highest revocation list sequence seen, in this run or before.
    pub revocation_sequence: Option<u64>,
    /// Listing key (see [`State::key`]) → result name.
    pub results: BTreeMap<String, String>,
}

impl State {
    /// An empty state that remembers `revocation_sequence`.
    pub fn new(revocation_sequence: Option<u64>) -> State {
        State {
            format: String::from(FORMAT),
            revocation_sequence,
            results: BTreeMap::new(),
        }
    }

    /// How a listing is known from one run to the next: `id <listing id>`, or `row <n>` when it
    /// has no id; a listing id already taken in this run (a duplicate) is `id <listing id>, row
    /// <n>`.
    fn key(&self, r: &RowResult) -> String {
        let id = r.listing_id.trim();
        if id.is_empty() {
            return format!("row {}", r.row);
        }
        let key = format!("id {id}");
        if self.results.contains_key(&key) {
            format!("id {id}, row {}", r.row)
        } else {
            key
        }
    }

    /// Takes one listing of this run, in file order: sets its `changed` against `previous` and
    /// remembers its result. `changed` is `new` (not in the previous run), `fixed` (now `ok`,
    /// then not), `newly_<result>` (another result than then: `newly_revoked`,
    /// `newly_expired`...), or empty (the same result).
    pub fn observe(&mut self, r: &mut RowResult, previous: Option<&State>) {
        let key = self.key(r);
        let change = match previous.and_then(|p| p.results.get(&key)) {
            None => String::from("new"),
            Some(before) if before == r.result.name() => String::new(),
            Some(_) if r.result == Outcome::Ok => String::from("fixed"),
            Some(_) => format!("newly_{}", r.result.name()),
        };
        r.changed = Some(change);
        self.results.insert(key, r.result.name().to_string());
    }

    /// How many listings of this run are not in `next`.
    pub fn gone(&self, next: &State) -> usize {
        self.results
            .keys()
            .filter(|k| !next.results.contains_key(*k))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use starmark_core::listings::Listing;

    fn result(id: &str, row: u64, o: Outcome) -> RowResult {
        let l = Listing {
            row,
            listing_id: Some(id),
            ..Listing::default()
        };
        let mut r = RowResult::bad_row(&l, None, String::new());
        r.result = o;
        r
    }

    #[test]
    fn changes() {
        let mut before = State::new(Some(3));
        for mut r in [
            result("a", 2, Outcome::Ok),
            result("b", 3, Outcome::Expired),
            result("", 4, Outcome::Ok),
            result("gone", 5, Outcome::Ok),
            result("a", 6, Outcome::BadRow),
        ] {
            before.observe(&mut r, None);
            assert_eq!(r.changed.as_deref(), Some("new"));
        }
        assert_eq!(
            before.results.get("id a, row 6").map(String::as_str),
            Some("bad_row")
        );
        let mut next = State::new(Some(3));
        let mut seen = |id: &str, row: u64, o: Outcome| {
            let mut r = result(id, row, o);
            next.observe(&mut r, Some(&before));
            r.changed.unwrap_or_default()
        };
        assert_eq!(seen("a", 2, Outcome::Revoked), "newly_revoked");
        assert_eq!(seen("b", 3, Outcome::Ok), "fixed");
        assert_eq!(seen("", 4, Outcome::Expired), "newly_expired");
        assert_eq!(seen("new", 7, Outcome::Ok), "new");
        assert_eq!(seen("a", 6, Outcome::BadRow), "");
        assert_eq!(before.gone(&next), 1);
        let json = serde_json::to_string(&before).unwrap();
        assert_eq!(serde_json::from_str::<State>(&json).unwrap(), before);
    }
}

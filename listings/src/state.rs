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

    /// How a listing is known from one run to the next: its id, or its row number when it has
    /// none (`row 12`).
    pub fn key(r: &RowResult) -> String {
        let id = r.listing_id.trim();
        if id.is_empty() {
            format!("row {}", r.row)
        } else {
            format!("id {id}")
        }
    }

    /// What changed for a listing since this run: `new` (not in it), `fixed` (now `ok`, then
    /// not), `newly_<result>` (another result than then: `newly_revoked`, `newly_expired`...),
    /// or empty (the same result).
    pub fn change(&self, r: &RowResult) -> String {
        match self.results.get(&State::key(r)) {
            None => String::from("new"),
            Some(before) if before == r.result.name() => String::new(),
            Some(_) if r.result == Outcome::Ok => String::from("fixed"),
            Some(_) => format!("newly_{}", r.result.name()),
        }
    }

    /// Remembers a listing's result.
    pub fn remember(&mut self, r: &RowResult) {
        self.results
            .insert(State::key(r), r.result.name().to_string());
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
        before.remember(&result("a", 2, Outcome::Ok));
        before.remember(&result("b", 3, Outcome::Expired));
        before.remember(&result("", 4, Outcome::Ok));
        before.remember(&result("gone", 5, Outcome::Ok));
        assert_eq!(before.change(&result("a", 9, Outcome::Revoked)), "newly_revoked");
        assert_eq!(before.change(&result("a", 9, Outcome::Ok)), "");
        assert_eq!(before.change(&result("b", 3, Outcome::Ok)), "fixed");
        assert_eq!(before.change(&result("", 4, Outcome::Expired)), "newly_expired");
        assert_eq!(before.change(&result("new", 6, Outcome::Ok)), "new");
        let mut next = State::new(Some(3));
        for r in [result("a", 2, Outcome::Ok), result("b", 3, Outcome::Ok)] {
            next.remember(&r);
        }
        assert_eq!(before.gone(&next), 2);
        let json = serde_json::to_string(&before).unwrap();
        assert_eq!(serde_json::from_str::<State>(&json).unwrap(), before);
    }
}

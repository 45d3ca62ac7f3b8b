//! The verdict: one function decides what a scanned label means. The browser, `starmark verify`,
//! the site build, `audit` and the listings check all call [`verify`], so there is one
//! implementation of the rules.

use alloc::string::String;

use serde::Serialize;

use crate::claim::{Claim, SignedClaim};
use crate::date::Day;
use crate::qr::{decode_digits, digits_of};
use crate::revocation::{Revocation, RevocationList};
use crate::trust::{IssuerKey, TrustList};

/// What a label is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Genuine and within its validity period (read together with `stale`).
    Valid,
    /// Genuine, but its validity period has ended.
    Expired,
    /// Genuine, but its validity period has not started.
    NotYetValid,
    /// Genuine, and revoked by the issuer.
    Revoked,
    /// The signature does not verify: the label was not issued as shown.
    Counterfeit,
    /// Signed by a key the trust list does not hold, or outside that key's period.
    UnknownIssuer,
    /// Signed by a key the root has marked compromised.
    IssuerCompromised,
    /// The code is damaged or not a starmark code.
    Malformed,
}

impl Verdict {
    /// The snake_case name, as in JSON and in the page's `data-verdict`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Expired => "expired",
            Verdict::NotYetValid => "not_yet_valid",
            Verdict::Revoked => "revoked",
            Verdict::Counterfeit => "counterfeit",
            Verdict::UnknownIssuer => "unknown_issuer",
            Verdict::IssuerCompromised => "issuer_compromised",
            Verdict::Malformed => "malformed",
        }
    }
}

/// What the verifier knows besides the label: the trust list (already checked against the pinned
/// root key), the revocation list (already checked against the trust list), the time, and the
/// highest revocation list sequence seen before.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The verified trust list.
    pub trust: &'a TrustList,
    /// The verified revocation list, if the verifier has one.
    pub revocations: Option<&'a RevocationList>,
    /// The current time, Unix seconds.
    pub now: u64,
    /// The highest revocation list sequence this verifier accepted before, if any.
    pub highest_seen_sequence: Option<u64>,
}

/// The outcome of verifying one label. Signed fields are present only when the signature verified
/// under a trusted key: a counterfeit never shows its claimed manufacturer as if it were true.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The verdict.
    pub verdict: Verdict,
    /// The revocation data is missing, past its next-update, or was refused as a rollback; a
    /// `valid` verdict with `stale` must never be shown as plainly valid.
    pub stale: bool,
    /// The revocation list offered is older than one seen before; it was ignored.
    pub rollback: bool,
    /// The verified claim.
    pub claim: Option<Claim>,
    /// The issuer key's holder, when known.
    pub issuer: Option<String>,
    /// Revocation date and reason, when revoked.
    pub revocation: Option<Revocation>,
    /// The sequence of the revocation list used (to remember as the highest seen).
    pub revocation_sequence: Option<u64>,
    /// Why the code is malformed, or which key is unknown.
    pub detail: Option<String>,
}

impl Verification {
    fn without_claim(verdict: Verdict, detail: Option<String>) -> Verification {
        Verification {
            verdict,
            stale: false,
            rollback: false,
            claim: None,
            issuer: None,
            revocation: None,
            revocation_sequence: None,
            detail,
        }
    }

    /// Valid and not stale: the only outcome a verifier may show as plainly genuine and valid.
    pub fn is_valid_and_fresh(&self) -> bool {
        self.verdict == Verdict::Valid && !self.stale
    }
}

/// Verifies a label from what was scanned: a verify URL, or its digits.
pub fn verify_target(target: &str, ctx: &Context<'_>) -> Verification {
    let bytes = match digits_of(target).and_then(decode_digits) {
        Ok(b) => b,
        Err(e) => {
            return Verification::without_claim(Verdict::Malformed, Some(alloc::format!("{e}")))
        }
    };
    verify_payload(&bytes, ctx)
}

/// Verifies a label's payload (`claim || signature`). Never panics on any input.
pub fn verify_payload(payload: &[u8], ctx: &Context<'_>) -> Verification {
    // 1. Structure.
    let signed = match SignedClaim::decode(payload) {
        Ok(s) => s,
        Err(e) => {
            return Verification::without_claim(Verdict::Malformed, Some(alloc::format!("{e}")))
        }
    };
    verify(&signed, ctx)
}

/// Decides the verdict for a decoded signed claim, in numbered steps.
pub fn verify(signed: &SignedClaim, ctx: &Context<'_>) -> Verification {
    let claim = signed.claim();

    // 2. Key lookup: the issuer key must be in the trust list.
    let Some(issuer) = ctx.trust.issuer(claim.key_id) else {
        return Verification::without_claim(
            Verdict::UnknownIssuer,
            Some(alloc::format!(
                "key {} is not in the trust list",
                claim.key_id
            )),
        );
    };

    // 3. Strict signature.
    if signed.verify_signature(&issuer.public_key).is_err() {
        return Verification::without_claim(Verdict::Counterfeit, None);
    }
    assess(claim, issuer, ctx)
}

/// Steps 4 to 6 of [`verify`] (key status, revocation, validity) for a claim whose signature
/// already verified under `issuer`, a key of `ctx.trust`. For callers that keep the outcome of
/// step 3 for unchanged input (the site build's cache); everyone else calls [`verify`].
pub fn assess(claim: &Claim, issuer: &IssuerKey, ctx: &Context<'_>) -> Verification {
    let mut out = Verification {
        verdict: Verdict::Valid,
        stale: false,
        rollback: false,
        claim: Some(claim.clone()),
        issuer: Some(issuer.name.clone()),
        revocation: None,
        revocation_sequence: None,
        detail: None,
    };

    // 4. Key status: a compromised key could have signed anything, with any dates.
    if let Some(since) = issuer.compromised_since {
        out.verdict = Verdict::IssuerCompromised;
        out.detail = Some(alloc::format!(
            "key {} compromised since {since}",
            claim.key_id
        ));
        out.claim = None;
        return out;
    }
    // The key must have been authorised when the certification began.
    if claim.valid_from < issuer.valid_from || claim.valid_from > issuer.valid_until {
        out.verdict = Verdict::UnknownIssuer;
        out.detail = Some(alloc::format!(
            "key {} was authorised only from {} to {}",
            claim.key_id,
            issuer.valid_from,
            issuer.valid_until
        ));
        out.claim = None;
        return out;
    }

    // 5. Revocation data: refuse a rolled-back list, flag stale data.
    let list = match ctx.revocations {
        Some(list)
            if ctx
                .highest_seen_sequence
                .is_some_and(|seen| list.sequence < seen) =>
        {
            out.rollback = true;
            None
        }
        other => other,
    };
    match list {
        None => out.stale = true,
        Some(list) => {
            out.revocation_sequence = Some(list.sequence);
            out.stale = ctx.now > list.next_update;
            if let Some(r) = list.lookup(claim.serial) {
                out.revocation = Some(*r);
                out.verdict = Verdict::Revoked;
                return out;
            }
        }
    }

    // 6. Validity window, by calendar day (UTC); valid_until is inclusive. A time after the last
    // representable day (2149-06-06) is after every validity period.
    out.verdict = match Day::checked_from_unix(ctx.now) {
        Some(today) if today < claim.valid_from => Verdict::NotYetValid,
        Some(today) if today <= claim.valid_until => Verdict::Valid,
        _ => Verdict::Expired,
    };
    out
}

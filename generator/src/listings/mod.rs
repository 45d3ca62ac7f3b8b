//! `starmark check-listings`: the I/O around the listings check. The rules are in
//! `starmark_core::listings`, the reading of files and the reports in `starmark_listings`; here
//! are the sources of certifications ([`source`]) and the XLSX report ([`xlsx`]).

pub mod source;
pub mod xlsx;

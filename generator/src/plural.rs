//! Counts in messages: "1 certification", "2 certifications", never "1 certifications".

/// `n` and the noun in the number that agrees with it: `count(1, "file", "files")` is "1 file".
pub fn count<N: Number>(n: N, singular: &str, plural: &str) -> String {
    format!("{n} {}", noun(n, singular, plural))
}

/// An integer count.
pub trait Number: Copy + std::fmt::Display + PartialEq + From<u8> {}

impl<N: Copy + std::fmt::Display + PartialEq + From<u8>> Number for N {}

/// The noun in the number that agrees with `n`, without the number.
pub fn noun<'a, N: Number>(n: N, singular: &'a str, plural: &'a str) -> &'a str {
    if n == N::from(1) {
        singular
    } else {
        plural
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(0u8, "result", "results"), "0 results");
        assert_eq!(count(1u8, "result", "results"), "1 result");
        assert_eq!(count(2u64, "entry", "entries"), "2 entries");
        assert_eq!(noun(1u32, "file", "files"), "file");
        assert_eq!(noun(7u32, "file", "files"), "files");
    }
}

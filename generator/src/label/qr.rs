//! The label's QR code: exactly the code of [`crate::qrcode_image::encode_url`] (byte-mode
//! prefix, numeric digits, error correction M, smallest version, the `qrcode` crate's mask
//! choice), computed about ten times faster. The `qrcode` crate draws the functional patterns
//! and the data; its mask choice, which costs over a millisecond per code (a boxed closure per
//! module and penalty rule), is redone here on bit rows with the same rules and the same
//! tie-break. The tests check module for module that both give the same code.

use std::sync::OnceLock;

use anyhow::{Context, Result};
use qrcode::canvas::{Canvas, Module};
use qrcode::types::Color;
use qrcode::EcLevel;

/// A QR code: its modules per side and the dark modules, row by row.
pub struct Code {
    /// Modules per side, without the quiet zone.
    pub width: u32,
    /// Dark modules, row by row.
    pub dark: Vec<bool>,
}

/// The QR code of a verify URL `<prefix>#<digits>`, as `encode_url` makes it.
pub fn encode(url: &str) -> Result<Code> {
    let bits = crate::qrcode_image::verify_url_bits(url)?;
    let version = bits.version();
    let data = bits.into_bytes();
    let (encoded, ec) = qrcode::ec::construct_codewords(&data, version, EcLevel::M)
        .context("QR encoding failed")?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&encoded, &ec);
    Ok(best_mask(&canvas, version.width() as usize))
}

/// `qrcode`'s format information for error correction M and masks 0..=7 (the first entries of
/// its table: standard BCH-coded format strings).
const FORMAT_M: [u16; 8] = [
    0x5412, 0x5125, 0x5e7c, 0x5b4b, 0x45f9, 0x40ce, 0x4f97, 0x4aa0,
];

/// Where `qrcode` draws the 15 format bits, most significant first, twice (negative coordinates
/// count from the far side).
const FORMAT_MAIN: [(i32, i32); 15] = [
    (0, 8),
    (1, 8),
    (2, 8),
    (3, 8),
    (4, 8),
    (5, 8),
    (7, 8),
    (8, 8),
    (8, 7),
    (8, 5),
    (8, 4),
    (8, 3),
    (8, 2),
    (8, 1),
    (8, 0),
];
const FORMAT_SIDE: [(i32, i32); 15] = [
    (8, -1),
    (8, -2),
    (8, -3),
    (8, -4),
    (8, -5),
    (8, -6),
    (8, -7),
    (-8, 8),
    (-7, 8),
    (-6, 8),
    (-5, 8),
    (-4, 8),
    (-3, 8),
    (-2, 8),
    (-1, 8),
];

/// Whether mask `m` (0..=7, `qrcode`'s numbering) inverts the module at column `x`, row `y`.
fn mask_bit(m: u8, x: usize, y: usize) -> bool {
    match m {
        0 => (x + y).is_multiple_of(2),
        1 => y.is_multiple_of(2),
        2 => x.is_multiple_of(3),
        3 => (x + y).is_multiple_of(3),
        4 => ((y / 2) + (x / 3)).is_multiple_of(2),
        5 => (x * y) % 2 + (x * y) % 3 == 0,
        6 => ((x * y) % 2 + (x * y) % 3).is_multiple_of(2),
        _ => ((x + y) % 2 + (x * y) % 3).is_multiple_of(2),
    }
}

/// Applies each of the eight masks as `qrcode` does (data modules inverted where the mask says,
/// then the format information drawn) and keeps the first with the lowest penalty, as
/// `Canvas::apply_best_mask` does.
fn best_mask(canvas: &Canvas, width: usize) -> Code {
    let w = width;
    // What a module is before masking: dark, and whether masking applies (data, or not yet
    // drawn).
    let module = |x: usize, y: usize| match canvas.get(x as i16, y as i16) {
        Module::Masked(c) => (c == Color::Dark, false),
        Module::Unmasked(c) => (c == Color::Dark, true),
        Module::Empty => (false, true),
    };
    // The format modules, with the bit each shows, then the always-dark module.
    let wrap = |v: i32| {
        if v < 0 {
            (v + w as i32) as usize
        } else {
            v as usize
        }
    };
    let mut format_modules: Vec<(usize, usize, Option<usize>)> = Vec::with_capacity(31);
    for coords in [&FORMAT_MAIN, &FORMAT_SIDE] {
        for (k, &(x, y)) in coords.iter().enumerate() {
            format_modules.push((wrap(x), wrap(y), Some(14 - k)));
        }
    }
    format_modules.push((8, wrap(-8), None));
    let format_dark =
        |m: u8, bit: Option<usize>| bit.is_none_or(|b| FORMAT_M[usize::from(m)] & (1 << b) != 0);
    let dark = if w <= 64 {
        best_mask_u64(&module, w, &format_modules, &format_dark)
    } else if w <= 128 {
        best_mask_u128(&module, w, &format_modules, &format_dark)
    } else {
        let base: Vec<(bool, bool)> = (0..w * w).map(|i| module(i % w, i / w)).collect();
        let mut best: Option<(u32, Vec<bool>)> = None;
        for m in 0..8u8 {
            let mut dark = Vec::with_capacity(w * w);
            for (y, row) in base.chunks_exact(w).enumerate() {
                for (x, &(d, data)) in row.iter().enumerate() {
                    dark.push(d ^ (data && mask_bit(m, x, y)));
                }
            }
            for &(x, y, bit) in &format_modules {
                dark[y * w + x] = format_dark(m, bit);
            }
            let score = penalty_slow(&dark, w);
            if best.as_ref().is_none_or(|(s, _)| score < *s) {
                best = Some((score, dark));
            }
        }
        best.map(|(_, d)| d).unwrap_or_default()
    };
    Code {
        width: w as u32,
        dark,
    }
}

/// The masks as bit lines, repeating every 12 lines: `[m][y % 12]` has bit x set where mask m
/// inverts column x of row y; by symmetry of the roles, `[m][x % 12]` of the second table has
/// bit y set where it inverts row y of column x.
fn mask_lines() -> &'static [[[u128; 12]; 8]; 2] {
    static LINES: OnceLock<[[[u128; 12]; 8]; 2]> = OnceLock::new();
    LINES.get_or_init(|| {
        let mut lines = [[[0u128; 12]; 8]; 2];
        let [rows, cols] = &mut lines;
        for (m, (row_mask, col_mask)) in rows.iter_mut().zip(cols.iter_mut()).enumerate() {
            for (i, (row, col)) in row_mask.iter_mut().zip(col_mask.iter_mut()).enumerate() {
                for j in 0..128 {
                    if mask_bit(m as u8, j, i) {
                        *row |= 1 << j;
                    }
                    if mask_bit(m as u8, i, j) {
                        *col |= 1 << j;
                    }
                }
            }
        }
        lines
    })
}

/// [`best_mask`] on bit rows and columns, for codes up to as many modules wide as the bits of
/// `$t` (bit x of row y = module x, y): `u64` for the usual labels (up to version 11), `u128`
/// up to 128 modules.
macro_rules! mask_on_bits {
    ($bits:ident, $penalty:ident, $line:ident, $t:ty) => {
        fn $bits(
            module: &dyn Fn(usize, usize) -> (bool, bool),
            w: usize,
            format_modules: &[(usize, usize, Option<usize>)],
            format_dark: &dyn Fn(u8, Option<usize>) -> bool,
        ) -> Vec<bool> {
            // Before masking, dark modules and maskable modules, as rows and as columns.
            let (mut dark_rows, mut data_rows) = (vec![(0 as $t); w], vec![(0 as $t); w]);
            for y in 0..w {
                let (mut dark, mut data) = ((0 as $t), (0 as $t));
                for x in 0..w {
                    let (d, m) = module(x, y);
                    dark |= <$t>::from(d) << x;
                    data |= <$t>::from(m) << x;
                }
                dark_rows[y] = dark;
                data_rows[y] = data;
            }
            let transpose = |rows: &[$t]| {
                let mut cols = vec![(0 as $t); w];
                for (y, &row) in rows.iter().enumerate() {
                    let mut bits = row;
                    while bits != 0 {
                        cols[bits.trailing_zeros() as usize] |= 1 << y;
                        bits &= bits - 1;
                    }
                }
                cols
            };
            let (dark_cols, data_cols) = (transpose(&dark_rows), transpose(&data_rows));
            let [row_masks, col_masks] = mask_lines();
            let mut best: Option<(u32, Vec<$t>)> = None;
            let mut cols = vec![(0 as $t); w];
            for m in 0..8u8 {
                let (row_mask, col_mask) = (&row_masks[usize::from(m)], &col_masks[usize::from(m)]);
                let mut rows: Vec<$t> = (0..w)
                    .map(|y| dark_rows[y] ^ (data_rows[y] & (row_mask[y % 12] as $t)))
                    .collect();
                for (x, c) in cols.iter_mut().enumerate() {
                    *c = dark_cols[x] ^ (data_cols[x] & (col_mask[x % 12] as $t));
                }
                for &(x, y, bit) in format_modules {
                    if format_dark(m, bit) {
                        rows[y] |= 1 << x;
                        cols[x] |= 1 << y;
                    } else {
                        rows[y] &= !(1 << x);
                        cols[x] &= !(1 << y);
                    }
                }
                let score = $penalty(&rows, &cols, w);
                if best.as_ref().is_none_or(|(s, _)| score < *s) {
                    best = Some((score, rows));
                }
            }
            let rows = best.map(|(_, r)| r).unwrap_or_default();
            let mut dark = Vec::with_capacity(w * w);
            for r in rows {
                dark.extend((0..w).map(|x| r >> x & 1 == 1));
            }
            dark
        }

        /// The `qrcode` crate's penalty score of a masked normal QR code as bit rows and columns (bit x
        /// of row y = bit y of column x = module x, y dark), its rules and quirks included: runs of five
        /// or more modules of one colour in a row or column (3 points, plus 1 per module beyond five),
        /// 2x2 blocks of one colour (3 points each), 1:1:3:1:1 patterns without four light modules on at
        /// least one side (40 points each), and the distance from half dark. `qrcode` subtracts 360 per
        /// direction for the finder patterns themselves, the same for every mask: the comparison is the
        /// same without it.
        fn $penalty(rows: &[$t], cols: &[$t], w: usize) -> u32 {
            let all = if w == <$t>::BITS as usize {
                <$t>::MAX
            } else {
                ((1 as $t) << w) - 1
            };
            let mut score = 0u32;
            for line in rows.iter().chain(cols.iter()) {
                score += $line(*line, w, all);
            }
            for pair in rows.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let vertical = !(a ^ b);
                let block = vertical & (vertical >> 1) & !(a ^ (a >> 1)) & (all >> 1);
                score += 3 * block.count_ones();
            }
            let dark_count: u32 = rows.iter().map(|r| r.count_ones()).sum();
            let ratio = dark_count as usize * 200 / (w * w).max(1);
            score + ratio.abs_diff(100) as u32
        }

        /// One row or column as bits (bit j = module j dark).
        fn $line(line: $t, w: usize, all: $t) -> u32 {
            // Bit j of `same`: modules j and j + 1 alike; of `five`: modules j..j + 5 alike. A run of
            // n >= 5 alike sets n - 4 consecutive bits of `five` and scores n - 2.
            let same = !(line ^ (line >> 1)) & (all >> 1);
            let five = same & (same >> 1) & (same >> 2) & (same >> 3);
            let runs = five & !(five << 1);
            let mut score = five.count_ones() + 2 * runs.count_ones();
            if w >= 7 {
                let l = line;
                let mut found = l
                    & !(l >> 1)
                    & (l >> 2)
                    & (l >> 3)
                    & (l >> 4)
                    & !(l >> 5)
                    & (l >> 6)
                    & (all >> 6);
                while found != 0 {
                    let j = found.trailing_zeros() as usize;
                    let before = j.min(4);
                    let before_bits = (l >> (j - before)) & (((1 as $t) << before) - 1);
                    let after = (w - (j + 7)).min(4);
                    let after_bits = if after == 0 {
                        0
                    } else {
                        (l >> (j + 7)) & (((1 as $t) << after) - 1)
                    };
                    if before_bits == 0 || after_bits == 0 {
                        score += 40;
                    }
                    found &= found - 1;
                }
            }
            score
        }
    };
}

mask_on_bits!(best_mask_u64, penalty_u64, line_u64, u64);
mask_on_bits!(best_mask_u128, penalty_u128, line_u128, u128);

/// [`penalty`] for codes wider than 128 modules, one module at a time.
fn penalty_slow(dark: &[bool], w: usize) -> u32 {
    let mut score = 0u32;
    let mut column = vec![false; w];
    for i in 0..w {
        score += line_penalty(&dark[i * w..(i + 1) * w]);
        for (y, c) in column.iter_mut().enumerate() {
            *c = dark[y * w + i];
        }
        score += line_penalty(&column);
    }
    for y in 0..w.saturating_sub(1) {
        let (top, bottom) = (&dark[y * w..(y + 1) * w], &dark[(y + 1) * w..(y + 2) * w]);
        for x in 0..w - 1 {
            let c = top[x];
            if top[x + 1] == c && bottom[x] == c && bottom[x + 1] == c {
                score += 3;
            }
        }
    }
    let dark_count = dark.iter().filter(|&&d| d).count();
    let ratio = dark_count * 200 / dark.len().max(1);
    score + ratio.abs_diff(100) as u32
}

fn line_penalty(line: &[bool]) -> u32 {
    let w = line.len();
    let mut score = 0u32;
    let mut run = 1u32;
    for j in 1..w {
        if line[j] == line[j - 1] {
            run += 1;
        } else {
            if run >= 5 {
                score += run - 2;
            }
            run = 1;
        }
    }
    if run >= 5 {
        score += run - 2;
    }
    for j in 0..w.saturating_sub(6) {
        if line[j..j + 7] == [true, false, true, true, true, false, true] {
            let before = line[j.saturating_sub(4)..j].iter().any(|&d| d);
            let after = line[j + 7..(j + 11).min(w)].iter().any(|&d| d);
            if !before || !after {
                score += 40;
            }
        }
    }
    score
}

//! The camera's QR decoder: `rqrr` over a frame the page grabbed from the camera. Loaded only when
//! the camera is used and the browser has no `BarcodeDetector`.

use wasm_bindgen::prelude::*;

/// Decodes the first QR code found in a grey-scale frame (`luma`: one byte per pixel, row by
/// row). Returns its text, or `undefined` when no code could be read. Never panics: a buffer
/// shorter than `width × height` reads as white past its end.
#[wasm_bindgen]
pub fn decode_qr_luma(luma: &[u8], width: u32, height: u32) -> Option<String> {
    let (w, h) = (width as usize, height as usize);
    decode(w, h, |x, y| luma.get(y * w + x).copied().unwrap_or(255))
}

/// Decodes the first QR code found in an RGBA frame (`ImageData.data` of a canvas). Returns its
/// text, or `undefined`. Never panics.
#[wasm_bindgen]
pub fn decode_qr(rgba: &[u8], width: u32, height: u32) -> Option<String> {
    let (w, h) = (width as usize, height as usize);
    decode(w, h, |x, y| {
        let i = (y * w + x) * 4;
        match rgba.get(i..i + 3) {
            // Integer Rec. 601 luma.
            Some([r, g, b]) => {
                ((u32::from(*r) * 77 + u32::from(*g) * 150 + u32::from(*b) * 29) >> 8) as u8
            }
            _ => 255,
        }
    })
}

fn decode(w: usize, h: usize, pixel: impl FnMut(usize, usize) -> u8) -> Option<String> {
    if w == 0 || h == 0 || w.checked_mul(h)? > 16_000_000 {
        return None;
    }
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, pixel);
    img.detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_empty_frames_have_no_code() {
        assert_eq!(decode_qr(&[], 0, 0), None);
        assert_eq!(decode_qr(&[255; 64 * 64 * 4], 64, 64), None);
        assert_eq!(decode_qr_luma(&[0; 10], 64, 64), None);
    }
}

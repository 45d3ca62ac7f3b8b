//! `favicon.ico`: the site's icon where browsers look for it unasked (`/favicon.ico`) and where
//! every page links it, drawn from `static/icon.svg` (the registry's own when it overrides it)
//! at 16, 32 and 48 pixels, so that the icon a registry chooses is the one its tabs show.

use anyhow::{Context, Result};
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;

use super::{key_of, theme, Job, Site};

/// Where the icon is published, relative to the site root.
pub const PATH: &str = "favicon.ico";
/// The square sizes drawn, in pixels.
const SIZES: [u8; 3] = [16, 32, 48];

/// The job that draws `favicon.ico`; its key is the icon's SVG.
pub(super) fn job<'a>(site: &Site<'a>) -> Result<Job<'a>> {
    let svg = theme::file(&site.reg.path("templates"), "static/icon.svg")?;
    Ok(Job::named(
        "favicon",
        key_of(&[b"favicon", &svg]),
        vec![PATH.into()],
        Box::new(move || Ok(vec![ico(&svg)?])),
    ))
}

/// An ICO file holding `svg` drawn as a PNG at each of [`SIZES`] (PNG entries are read by every
/// browser); the same SVG always gives the same bytes.
pub fn ico(svg: &[u8]) -> Result<Vec<u8>> {
    let tree = usvg::Tree::from_data(svg, &usvg::Options::default())
        .context("static/icon.svg: not an SVG image")?;
    let pngs = SIZES
        .iter()
        .map(|&size| draw(&tree, u32::from(size)))
        .collect::<Result<Vec<_>>>()?;
    let count = u16::try_from(SIZES.len()).context("too many icon sizes")?;
    let mut out = Vec::new();
    // ICONDIR: reserved, type 1 (icon), number of images.
    out.extend_from_slice(&[0, 0, 1, 0]);
    out.extend_from_slice(&count.to_le_bytes());
    let mut offset = 6 + 16 * SIZES.len();
    for (&size, png) in SIZES.iter().zip(&pngs) {
        // ICONDIRENTRY: width, height, no palette, reserved, 1 plane, 32 bits per pixel,
        // the image's length and offset.
        out.extend_from_slice(&[size, size, 0, 0]);
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&32u16.to_le_bytes());
        out.extend_from_slice(&u32::try_from(png.len())?.to_le_bytes());
        out.extend_from_slice(&u32::try_from(offset)?.to_le_bytes());
        offset += png.len();
    }
    for png in pngs {
        out.extend_from_slice(&png);
    }
    Ok(out)
}

/// The icon at `size` x `size` pixels as an RGBA PNG.
fn draw(tree: &usvg::Tree, size: u32) -> Result<Vec<u8>> {
    let mut pixmap = Pixmap::new(size, size).context("icon size")?;
    let (w, h) = (tree.size().width(), tree.size().height());
    let scale = Transform::from_scale(size as f32 / w, size as f32 / h);
    resvg::render(tree, scale, &mut pixmap.as_mut());
    let rgba: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, size, size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("favicon: PNG header")?;
    writer
        .write_image_data(&rgba)
        .context("favicon: PNG data")?;
    writer.finish().context("favicon: PNG end")?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICON: &[u8] = include_bytes!("../../../templates/static/icon.svg");

    #[test]
    fn an_ico_of_three_pngs_of_the_icon() {
        let ico = ico(ICON).unwrap();
        assert_eq!(&ico[..6], &[0, 0, 1, 0, 3, 0]);
        for (i, size) in SIZES.iter().enumerate() {
            let entry = &ico[6 + 16 * i..6 + 16 * (i + 1)];
            assert_eq!((entry[0], entry[1]), (*size, *size));
            let len = u32::from_le_bytes(entry[8..12].try_into().unwrap()) as usize;
            let at = u32::from_le_bytes(entry[12..16].try_into().unwrap()) as usize;
            let png = &ico[at..at + len];
            let decoder = png::Decoder::new(std::io::Cursor::new(png));
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let frame = reader.next_frame(&mut buf).unwrap();
            assert_eq!(
                (frame.width, frame.height),
                (u32::from(*size), u32::from(*size))
            );
            // The centre of the icon is the white shield or the star, not transparent.
            let mid = (frame.width / 2 * frame.width + frame.width / 2) as usize * 4;
            assert_eq!(buf[mid + 3], 255, "opaque centre at {size} px");
        }
        assert_eq!(ico, super::ico(ICON).unwrap(), "reproducible");
    }

    #[test]
    fn a_bad_icon_is_named() {
        let err = ico(b"<svg").unwrap_err();
        assert!(err.to_string().contains("static/icon.svg"), "{err}");
    }
}

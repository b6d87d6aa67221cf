//! Image variants: decoding an uploaded image and making its large and thumbnail versions.
//!
//! V2TIM's rule: the large version's shorter side is 720 px and the thumbnail's 198 px, scaled
//! proportionally, never upscaled; an image whose shorter side is below 198 px keeps its size in
//! all three versions, and one between 198 and 720 px has a large version of its own size.
//! Variants keep the original's format (PNG, JPEG, GIF, WebP; GIF variants are the first frame);
//! a format that cannot be encoded gives PNG variants. A variant that needs no scaling is the
//! original's bytes unchanged.
//!
//! Everything here is blocking CPU work: callers run it in `spawn_blocking`.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use oxim_proto::media::{ImageVariantKind, LARGE_SHORT_SIDE, THUMB_SHORT_SIDE};

/// Largest width or height accepted, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// Largest amount of memory the decoder may use for one image.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
/// JPEG quality of re-encoded variants.
const JPEG_QUALITY: u8 = 85;

/// Why an upload is not an image we can use (the upload fails with 6031).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotAnImage(pub String);

/// One scaled version of an image.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Large or thumb.
    pub kind: ImageVariantKind,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The encoded bytes, or `None` when the variant is the original unchanged.
    pub bytes: Option<Vec<u8>>,
    /// MIME type of `bytes` (the original's when `bytes` is `None`).
    pub content_type: &'static str,
}

/// What [`process`] found and made.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Width of the original, as displayed (after the EXIF orientation).
    pub width: u32,
    /// Height of the original, as displayed.
    pub height: u32,
    /// MIME type of the original.
    pub content_type: &'static str,
    /// The large and the thumbnail version, in that order.
    pub variants: Vec<Variant>,
}

/// The size of the version of a `width` × `height` image whose shorter side is `short_side`:
/// proportional, rounded, never larger than the original.
pub fn scaled_size(width: u32, height: u32, short_side: u32) -> (u32, u32) {
    let short = width.min(height);
    if short <= short_side || short == 0 {
        return (width, height);
    }
    let scale = |side: u32| -> u32 {
        let scaled = (side as u64 * short_side as u64 + short as u64 / 2) / short as u64;
        scaled.max(1) as u32
    };
    if width <= height { (short_side, scale(height)) } else { (scale(width), short_side) }
}

/// MIME type of an image format.
pub fn content_type(format: ImageFormat) -> &'static str {
    format.to_mime_type()
}

/// Decodes `bytes` and makes the large and thumbnail versions.
pub fn process(bytes: &[u8]) -> Result<Processed, NotAnImage> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| NotAnImage(format!("cannot read the image: {e}")))?;
    let Some(format) = reader.format() else {
        return Err(NotAnImage("not an image (unknown format)".into()));
    };
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder =
        reader.into_decoder().map_err(|e| NotAnImage(format!("not a decodable {format:?} image: {e}")))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| NotAnImage(format!("not a decodable {format:?} image: {e}")))?;
    img.apply_orientation(orientation);
    let (width, height) = (img.width(), img.height());
    if width == 0 || height == 0 {
        return Err(NotAnImage("the image has no pixels".into()));
    }

    let out_format = match format {
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP => format,
        _ => ImageFormat::Png,
    };
    let original_type = content_type(format);
    let mut variants = Vec::with_capacity(2);
    // The thumbnail is scaled from the large version when there is one: same result, less work.
    let mut source = img;
    for (kind, short_side) in [(ImageVariantKind::Large, LARGE_SHORT_SIDE), (ImageVariantKind::Thumb, THUMB_SHORT_SIDE)]
    {
        let (w, h) = scaled_size(width, height, short_side);
        if (w, h) == (width, height) && out_format == format {
            variants.push(Variant { kind, width: w, height: h, bytes: None, content_type: original_type });
            continue;
        }
        if (w, h) != (source.width(), source.height()) {
            source = source.resize_exact(w, h, FilterType::Triangle);
        }
        let bytes = encode(&source, out_format).map_err(|e| NotAnImage(format!("cannot encode the {kind:?}: {e}")))?;
        variants.push(Variant {
            kind,
            width: w,
            height: h,
            bytes: Some(bytes),
            content_type: content_type(out_format),
        });
    }
    Ok(Processed { width, height, content_type: original_type, variants })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> image::ImageResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => img.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))?,
        // The WebP and GIF encoders take 8-bit RGB(A) only.
        ImageFormat::WebP | ImageFormat::Gif => DynamicImage::from(img.to_rgba8()).write_to(&mut out, format)?,
        _ => img.write_to(&mut out, format)?,
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2tim_scaling_rule() {
        assert_eq!(scaled_size(1000, 1500, 720), (720, 1080));
        assert_eq!(scaled_size(1000, 1500, 198), (198, 297));
        assert_eq!(scaled_size(1500, 1000, 198), (297, 198));
        assert_eq!(scaled_size(500, 300, 720), (500, 300));
        assert_eq!(scaled_size(500, 300, 198), (330, 198));
        assert_eq!(scaled_size(100, 80, 198), (100, 80));
        assert_eq!(scaled_size(720, 720, 720), (720, 720));
        assert_eq!(scaled_size(10_000, 199, 198), (9950, 198));
        assert_eq!(scaled_size(20_000, 1000, 198), (3960, 198));
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::from(image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 7, 200])));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn variants_keep_the_format_and_follow_the_rule() {
        let p = process(&png(300, 250)).unwrap();
        assert_eq!((p.width, p.height, p.content_type), (300, 250, "image/png"));
        assert_eq!(p.variants[0].kind, ImageVariantKind::Large);
        assert!(p.variants[0].bytes.is_none(), "large of a 250 px image is the original");
        let thumb = &p.variants[1];
        assert_eq!((thumb.width, thumb.height), (238, 198));
        let decoded = image::load_from_memory(thumb.bytes.as_ref().unwrap()).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (238, 198));
        assert_eq!(image::guess_format(thumb.bytes.as_ref().unwrap()).unwrap(), ImageFormat::Png);
    }

    #[test]
    fn garbage_and_truncated_images_are_refused() {
        assert!(process(b"hello, this is text").is_err());
        let mut truncated = png(50, 50);
        truncated.truncate(60);
        assert!(process(&truncated).is_err());
    }
}

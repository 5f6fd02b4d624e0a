//! Thumbnails of image evidence: a 320-pixel PNG, made on first request and kept in
//! storage beside the image.

use super::locate;
use crate::domain::evidence::Kind;
use crate::services::storage::Storage;
use crate::services::ServiceError;
use sqlx::PgPool;

/// Images larger than this get no thumbnail (a download icon instead).
const MAX_THUMBNAIL_SOURCE: i64 = 40_000_000;
const THUMBNAIL_PX: u32 = 320;

/// Why there is no thumbnail to show.
#[derive(Debug)]
pub enum ThumbnailError {
    /// Not an image, or one too large to shrink.
    NoThumbnail,
    /// The stored image cannot be read right now (logged here).
    Unreadable,
    /// The stored bytes do not decode as an image; why not.
    NotAnImage(String),
    Service(ServiceError),
}

impl From<ServiceError> for ThumbnailError {
    fn from(e: ServiceError) -> Self {
        ThumbnailError::Service(e)
    }
}

/// The PNG thumbnail of a release's image evidence, made and stored if there is none yet.
pub async fn thumbnail(
    pool: &PgPool,
    storage: &Storage,
    release_id: i64,
    evidence_id: i64,
) -> Result<Vec<u8>, ThumbnailError> {
    let (e, key) = locate(pool, Some(release_id), evidence_id).await?;
    if e.kind != Kind::Image || e.size > MAX_THUMBNAIL_SOURCE {
        return Err(ThumbnailError::NoThumbnail);
    }
    let thumb_key = format!("thumbnails/{key}.png");
    if let Ok(bytes) = storage.read(&thumb_key).await {
        return Ok(bytes.to_vec());
    }
    // Decoding is heavy: a couple at a time, whatever the gallery asks for. The source
    // (up to 40 MB) is read only once a decoder is free, so waiting requests hold no bytes.
    static DECODERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _permit = DECODERS
        .acquire()
        .await
        .map_err(|_| ServiceError::Internal("thumbnail decoders closed".into()))?;
    let png = match storage.read(&thumb_key).await {
        // Made while this request waited for a decoder.
        Ok(bytes) => bytes.to_vec(),
        Err(_) => {
            let source = storage.read(&key).await.map_err(|err| {
                tracing::error!(error = %err, key, "evidence image unreadable");
                ThumbnailError::Unreadable
            })?;
            let png = tokio::task::spawn_blocking(move || make_thumbnail(&source))
                .await
                .map_err(|_| ServiceError::Internal("thumbnail task".into()))?
                .map_err(ThumbnailError::NotAnImage)?;
            if let Err(err) = storage.put_small(&thumb_key, png.clone()).await {
                tracing::warn!(error = %err, "thumbnail not cached");
            }
            png
        }
    };
    Ok(png)
}

fn make_thumbnail(source: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(source))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(128 * 1024 * 1024);
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| e.to_string())?;
    // Small images stay as they are; `thumbnail` alone would blow them up.
    let img = if img.width() > THUMBNAIL_PX || img.height() > THUMBNAIL_PX {
        img.thumbnail(THUMBNAIL_PX, THUMBNAIL_PX)
    } else {
        img
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_shrink_large_images_and_leave_small_ones() {
        let encode = |w, h| {
            let mut out = std::io::Cursor::new(Vec::new());
            image::RgbImage::new(w, h)
                .write_to(&mut out, image::ImageFormat::Png)
                .unwrap();
            out.into_inner()
        };
        let size = |png: Vec<u8>| {
            let img = image::load_from_memory(&png).unwrap();
            (img.width(), img.height())
        };
        assert_eq!(
            size(make_thumbnail(&encode(1000, 500)).unwrap()),
            (320, 160)
        );
        assert_eq!(size(make_thumbnail(&encode(24, 16)).unwrap()), (24, 16));
        assert!(make_thumbnail(b"not an image").is_err());
    }
}

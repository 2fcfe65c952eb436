//! Image URLs in content parts: the service takes an `https://` URL or a base64 `data:`
//! URI of a JPEG, PNG or WEBP image of at most 10 MB (OpenAI's and Azure's vision
//! fine-tuning guides). Anything else fails the training job, so `check` says it first.

use base64::Engine;

/// The largest image the service takes, in bytes.
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// The image types the service takes, by MIME type, with their magic bytes.
const TYPES: [(&str, &str); 3] = [("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")];

/// What is wrong with an `image_url.url`, or `None` when the service takes it.
pub fn url_problem(url: &str) -> Option<String> {
    if let Some(rest) = strip_prefix_ci(url, "https://") {
        return if rest.is_empty() || rest.starts_with('/') {
            Some(format!(
                "`{}` has no host; write the image's full `https://` address",
                shorten(url)
            ))
        } else {
            None
        };
    }
    if strip_prefix_ci(url, "http://").is_some() {
        return Some(format!(
            "`{}` is a plain `http://` address; the service takes `https://` URLs or `data:image/…;base64,` URIs",
            shorten(url)
        ));
    }
    let Some(rest) = strip_prefix_ci(url, "data:") else {
        return Some(format!(
            "`{}` is neither an `https://` URL nor a `data:image/jpeg|png|webp;base64,` URI",
            shorten(url)
        ));
    };
    let Some((head, data)) = rest.split_once(',') else {
        return Some(
            "the `data:` URI has no `,` before its data; write `data:image/png;base64,<data>`"
                .into(),
        );
    };
    let Some(mime) = head.strip_suffix(";base64") else {
        return Some(format!(
            "the `data:{head},` URI is not base64; write `data:image/png;base64,<data>` (or jpeg, webp)"
        ));
    };
    let mime = mime.to_ascii_lowercase();
    let declared = match mime.as_str() {
        "image/jpeg" => "JPEG",
        "image/png" => "PNG",
        "image/webp" => "WEBP",
        "image/jpg" => {
            return Some("`image/jpg` is not a MIME type; write `data:image/jpeg;base64,`".into());
        }
        "image/gif" => {
            return Some("GIF images are not taken; convert it to PNG, JPEG or WEBP".into());
        }
        other => {
            return Some(format!(
                "`{other}` images are not taken; use JPEG, PNG or WEBP (`data:image/png;base64,`)"
            ));
        }
    };
    // Base64 in JSON is sometimes wrapped at 76 columns; the service's decoder is strict,
    // so whitespace counts as malformed.
    let bytes = match base64::engine::general_purpose::STANDARD.decode(data) {
        Ok(b) => b,
        Err(e) => {
            use base64::DecodeError as E;
            let why = match e {
                E::InvalidByte(at, b) | E::InvalidLastSymbol(at, b) => {
                    format!(
                        "`{}` at offset {at} is not base64",
                        char::from(b).escape_default()
                    )
                }
                E::InvalidLength(n) => format!("its length, {n}, is not a multiple of 4"),
                E::InvalidPadding => "its `=` padding is wrong".to_owned(),
            };
            return Some(format!(
                "the base64 data of the `{mime}` image does not decode ({why}); encode the image file again, without line breaks"
            ));
        }
    };
    if bytes.len() > MAX_IMAGE_BYTES {
        return Some(format!(
            "the image has {:.1} MB, over the service's 10 MB per image; make it smaller",
            bytes.len() as f64 / (1024.0 * 1024.0)
        ));
    }
    match sniff(&bytes) {
        Some(actual) if actual == declared => None,
        Some("GIF") => Some(format!(
            "the data is a GIF image (declared `{mime}`); GIFs are not taken, convert it to PNG, JPEG or WEBP"
        )),
        Some(actual) => Some(format!(
            "the data is a {actual} image but is declared `{mime}`; write `data:image/{};base64,`",
            TYPES
                .iter()
                .find(|(_, name)| *name == actual)
                .map_or("png", |(m, _)| *m)
        )),
        None => Some(format!(
            "the data is not a {declared} image (its first bytes are not a {declared} header); encode the image file itself"
        )),
    }
}

/// The image type from its first bytes.
fn sniff(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("JPEG")
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("PNG")
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("WEBP")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("GIF")
    } else {
        None
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// A URL as a message shows it: data URIs and long URLs cut, on a character boundary.
fn shorten(url: &str) -> String {
    const MAX: usize = 60;
    match url.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &url[..at]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(mime: &str, bytes: &[u8]) -> String {
        format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 ";
    const GIF: &[u8] = b"GIF89a\x01\0\x01\0";

    #[test]
    fn https_urls_and_matching_data_uris_are_taken() {
        for ok in [
            "https://exemplo.com.br/nota.png".to_owned(),
            "HTTPS://exemplo.com.br/x".to_owned(),
            data("image/png", PNG),
            data("image/jpeg", JPEG),
            data("image/webp", WEBP),
            data("IMAGE/PNG", PNG),
        ] {
            assert_eq!(url_problem(&ok), None, "{ok}");
        }
    }

    #[test]
    fn everything_else_says_what_is_wrong() {
        let cases = [
            (
                "http://exemplo.com.br/nota.png".to_owned(),
                "plain `http://`",
            ),
            ("https://".to_owned(), "no host"),
            ("ftp://x/y.png".to_owned(), "neither an `https://` URL"),
            ("nota.png".to_owned(), "neither an `https://` URL"),
            ("data:image/png;base64".to_owned(), "no `,`"),
            ("data:image/png,abc".to_owned(), "not base64"),
            (data("image/gif", GIF), "GIF images are not taken"),
            (data("image/png", GIF), "the data is a GIF image"),
            (data("image/jpg", JPEG), "`image/jpg` is not a MIME type"),
            (data("image/svg+xml", b"<svg/>"), "`image/svg+xml` images"),
            (
                data("image/png", JPEG),
                "a JPEG image but is declared `image/png`",
            ),
            (data("image/jpeg", b"hello world"), "not a JPEG image"),
            (
                "data:image/png;base64,iVBORw0KGgo=!!".to_owned(),
                "does not decode (`=` at offset 11 is not base64)",
            ),
            (
                "data:image/png;base64,iVBO\nRw0KGgo=".to_owned(),
                "(`\\n` at offset 4 is not base64)",
            ),
            (
                "data:image/png;base64,iVBORw0KGgoAA".to_owned(),
                "(its length, 13, is not a multiple of 4)",
            ),
        ];
        for (url, expected) in cases {
            let problem = url_problem(&url).unwrap_or_else(|| panic!("{url} passed"));
            assert!(problem.contains(expected), "{url}: {problem}");
        }
    }

    #[test]
    fn images_over_ten_megabytes_are_refused() {
        let mut big = PNG.to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        let problem = url_problem(&data("image/png", &big)).unwrap();
        assert!(problem.contains("over the service's 10 MB"), "{problem}");
        big.truncate(MAX_IMAGE_BYTES);
        assert_eq!(url_problem(&data("image/png", &big)), None);
    }

    #[test]
    fn long_urls_are_shortened_on_a_character_boundary() {
        let url = format!("ftp://{}", "ç".repeat(100));
        let problem = url_problem(&url).unwrap();
        assert!(problem.contains("ççç…`"), "{problem}");
    }
}

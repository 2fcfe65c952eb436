//! `multipart/form-data` bodies (RFC 7578), built in memory: the Files API takes up to
//! 512 MB and an Uploads part 64 MB, both fine to hold.

/// A form being built.
#[derive(Debug)]
pub(crate) struct Form {
    boundary: String,
    body: Vec<u8>,
}

impl Form {
    pub(crate) fn new() -> Form {
        let boundary = format!(
            "afinar-{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        Form {
            boundary,
            body: Vec::new(),
        }
    }

    pub(crate) fn with_capacity(n: usize) -> Form {
        let mut form = Form::new();
        form.body.reserve(n + 512);
        form
    }

    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.head(name, None, None);
        self.body.extend_from_slice(value.as_bytes());
        self.body.extend_from_slice(b"\r\n");
    }

    /// A file part; `parts` are written one after another (a BOM, then the file).
    pub(crate) fn file(&mut self, name: &str, filename: &str, content_type: &str, parts: &[&[u8]]) {
        self.head(name, Some(filename), Some(content_type));
        for p in parts {
            self.body.extend_from_slice(p);
        }
        self.body.extend_from_slice(b"\r\n");
    }

    fn head(&mut self, name: &str, filename: Option<&str>, content_type: Option<&str>) {
        let mut head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"",
            self.boundary,
            quote(name)
        );
        if let Some(f) = filename {
            head.push_str(&format!("; filename=\"{}\"", quote(f)));
        }
        head.push_str("\r\n");
        if let Some(t) = content_type {
            head.push_str(&format!("Content-Type: {t}\r\n"));
        }
        head.push_str("\r\n");
        self.body.extend_from_slice(head.as_bytes());
    }

    /// (Content-Type header value, body)
    pub(crate) fn finish(mut self) -> (String, Vec<u8>) {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            self.body,
        )
    }
}

/// Quoted-string content: names are sent as UTF-8 (as browsers do), with `"` and line
/// breaks percent-encoded as RFC 7578 §4.2 suggests.
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_layout() {
        let mut form = Form::new();
        form.text("purpose", "fine-tune");
        form.file(
            "file",
            "perguntas \"ção\".jsonl",
            "application/octet-stream",
            &[b"ab", b"c\n"],
        );
        let (ct, body) = form.finish();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8(body).unwrap();
        assert_eq!(
            text,
            format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n\
                 --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"perguntas %22ção%22.jsonl\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\nabc\n\r\n--{b}--\r\n",
                b = boundary
            )
        );
    }
}

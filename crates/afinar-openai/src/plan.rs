//! What `--dry-run` shows: each provider's real requests, in order, without a key and
//! without sending anything. The paths and bodies are built by the same code that sends
//! them (`Config::url`, [`JobRequest::body`]).

use serde_json::{Value, json};

use crate::config::{Config, Provider, encode_segment};
use crate::request::JobRequest;

/// A file that would be uploaded: its name and size.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    pub name: String,
    pub bytes: u64,
    /// What stands for its id once uploaded (`<training file id>`).
    pub placeholder: String,
}

/// The requests, as `{"method", "url", "headers"?, "body"?, "note"?}` objects. The key
/// appears only as the name of its variable (`Bearer $TOGETHER_API_KEY`).
pub fn requests(config: &Config, files: &[PlannedFile], job: &JobRequest) -> Vec<Value> {
    let p = config.provider;
    let auth = match p {
        Provider::Azure => json!({"api-key": format!("${}", p.key_var())}),
        _ => json!({"Authorization": format!("Bearer ${}", p.key_var())}),
    };
    let url = |path: &str| config.url(path, &[]);
    let mut out = Vec::new();
    for f in files {
        match p {
            Provider::OpenAi | Provider::Azure => {
                if f.bytes > config.upload_threshold {
                    out.push(json!({"method": "POST", "url": url("/uploads"), "headers": auth,
                        "body": {"purpose": "fine-tune", "filename": f.name, "bytes": f.bytes,
                                 "mime_type": "text/jsonl"},
                        "note": "then one POST /uploads/{id}/parts per 64 MB, and POST /uploads/{id}/complete"}));
                } else {
                    out.push(
                        json!({"method": "POST", "url": url("/files"), "headers": auth,
                        "body": {"multipart": {"purpose": "fine-tune", "file": f.name}}}),
                    );
                }
            }
            Provider::Together => {
                out.push(json!({"method": "POST", "url": url("/files"), "headers": auth,
                    "body": {"form": {"purpose": "fine-tune", "file_name": f.name, "file_type": "jsonl"}},
                    "note": "answered 302 with `Location` (a signed URL) and `X-Together-File-Id`"}));
                out.push(json!({"method": "PUT", "url": "<Location>",
                    "body": {"bytes": f.bytes, "file": f.name},
                    "note": "no Authorization header: the signed URL is the permission"}));
                out.push(
                    json!({"method": "POST", "url": url("/files/<X-Together-File-Id>/preprocess"),
                    "headers": auth}),
                );
            }
            Provider::Fireworks => {
                let datasets = config.account_path("/datasets");
                let id = "<dataset id>";
                out.push(json!({"method": "POST", "url": url(&datasets), "headers": auth,
                    "body": {"datasetId": id, "dataset": {"userUploaded": {}, "exampleCount": "<lines>"}},
                    "note": format!("the dataset id is made from `{}` plus a random tag", f.name)}));
                let one = |tail: &str| url(&format!("{datasets}/{}{tail}", encode_segment(id)));
                if f.bytes < config.upload_threshold {
                    out.push(
                        json!({"method": "POST", "url": one(":upload"), "headers": auth,
                        "body": {"multipart": {"file": f.name}}}),
                    );
                } else {
                    out.push(
                        json!({"method": "POST", "url": one(":getUploadEndpoint"), "headers": auth,
                        "body": {"filenameToSize": {f.name.clone(): f.bytes.to_string()}}}),
                    );
                    out.push(
                        json!({"method": "PUT", "url": "<filenameToSignedUrls[file]>",
                        "headers": {"Content-Type": "application/octet-stream",
                                    "x-goog-content-length-range": format!("{0},{0}", f.bytes)},
                        "body": {"bytes": f.bytes, "file": f.name},
                        "note": "no Authorization header: the signed URL is the permission"}),
                    );
                    out.push(
                        json!({"method": "POST", "url": one(":validateUpload"), "headers": auth,
                        "body": {}}),
                    );
                }
                out.push(json!({"method": "GET", "url": one(""), "headers": auth,
                    "note": "repeated until `state` is `READY`"}));
            }
        }
    }
    let create = match p {
        Provider::OpenAi | Provider::Azure => url("/fine_tuning/jobs"),
        Provider::Together => url("/fine-tunes"),
        Provider::Fireworks => url(&config.account_path("/supervisedFineTuningJobs")),
    };
    out.push(json!({"method": "POST", "url": create, "headers": auth, "body": job.body(p)}));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn together_plan_has_the_redirect_steps_and_no_key() {
        let config = Config::together("tk-SECRET-123");
        let files = [PlannedFile {
            name: "treino.jsonl".into(),
            bytes: 10,
            placeholder: "<training file id>".into(),
        }];
        let job = JobRequest {
            model: "m".into(),
            training_file: "<training file id>".into(),
            ..Default::default()
        };
        let plan = requests(&config, &files, &job);
        let text = serde_json::to_string(&plan).unwrap();
        assert!(!text.contains("SECRET"), "{text}");
        let steps: Vec<(&str, &str)> = plan
            .iter()
            .map(|r| (r["method"].as_str().unwrap(), r["url"].as_str().unwrap()))
            .collect();
        assert_eq!(
            steps,
            [
                ("POST", "https://api.together.xyz/v1/files"),
                ("PUT", "<Location>"),
                (
                    "POST",
                    "https://api.together.xyz/v1/files/<X-Together-File-Id>/preprocess"
                ),
                ("POST", "https://api.together.xyz/v1/fine-tunes"),
            ]
        );
        assert!(plan[1].get("headers").is_none());
    }

    #[test]
    fn fireworks_plan_switches_to_the_signed_url_at_150_mb() {
        let config = Config::fireworks("fk", "contabil");
        let big = [PlannedFile {
            name: "t.jsonl".into(),
            bytes: 150 * 1024 * 1024,
            placeholder: "<training dataset>".into(),
        }];
        let plan = requests(&config, &big, &JobRequest::default());
        let urls: Vec<&str> = plan.iter().map(|r| r["url"].as_str().unwrap()).collect();
        assert!(urls[1].ends_with(":getUploadEndpoint"), "{urls:?}");
        assert!(urls[3].ends_with(":validateUpload"), "{urls:?}");
        assert!(
            urls.last()
                .unwrap()
                .ends_with("/v1/accounts/contabil/supervisedFineTuningJobs")
        );
    }
}

//! What `upload`, `launch`, `jobs` (and `eval`) share: the provider flag, the client, the
//! pre-upload gate's rendering, uploading one file, following a job, and the exit code
//! for remote errors. Not a command: commands import this, never each other.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use afinar_check::Registry;
use afinar_check::preflight::{self, Gate, Request};
use afinar_openai::follow::{self, Level, Progress};
use afinar_openai::{Client, FileObject, JobStatus, Provider};
use anyhow::Context;
use clap::ValueEnum;
use serde_json::json;

use crate::ui::{self, exit};

/// Flags every remote command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RemoteArgs {
    /// The service [default: openai when OPENAI_API_KEY is set, else azure].
    #[arg(long, value_enum, global = true)]
    pub provider: Option<ProviderArg>,
    /// Output: text, or JSON on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderArg {
    Openai,
    Azure,
    Together,
    Fireworks,
}

impl ProviderArg {
    pub(crate) fn provider(self) -> Provider {
        match self {
            ProviderArg::Openai => Provider::OpenAi,
            ProviderArg::Azure => Provider::Azure,
            ProviderArg::Together => Provider::Together,
            ProviderArg::Fireworks => Provider::Fireworks,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

impl RemoteArgs {
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        Ok(Client::from_env(self.provider.map(ProviderArg::provider))?)
    }

    /// The provider chosen, or the one the environment picks (OpenAI when nothing is
    /// set: what a dry run shows).
    pub(crate) fn provider_or_default(&self) -> Provider {
        match self.provider {
            Some(p) => p.provider(),
            None if std::env::var_os("OPENAI_API_KEY").is_none()
                && std::env::var_os("AZURE_OPENAI_ENDPOINT").is_some() =>
            {
                Provider::Azure
            }
            None => Provider::OpenAi,
        }
    }

    pub(crate) fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }
}

/// Renders a remote failure (service answer, connection, bad JSON) and exits 3; other
/// errors go back to `main` (exit 2).
pub(crate) fn exit_remote(result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    match result {
        Err(err)
            if err.chain().any(|c| {
                c.downcast_ref::<afinar_openai::Error>()
                    .is_some_and(afinar_openai::Error::is_remote)
            }) =>
        {
            ui::report_error(&err);
            Ok(ExitCode::from(exit::REMOTE))
        }
        other => other,
    }
}

pub(crate) fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=3600.0).contains(&x) => Ok(x),
        _ => Err(format!("`{s}` is not a number of seconds from 0 to 3600")),
    }
}

/// The pre-upload check of one file for `provider` ([`afinar_check::preflight`]).
pub(crate) fn gate(request: &Request<'_>) -> anyhow::Result<Gate> {
    preflight::preflight(&Registry::builtin(), request)
        .with_context(|| format!("Could not check `{}`", request.path.display()))
}

/// Prints a gate's verdict on standard error.
pub(crate) fn print_gate(gate: &Gate) {
    for note in &gate.notes {
        eprint!("{}", ui::warning(note));
    }
    let verdict = if gate.passed() {
        ui::paint("ok", "32")
    } else {
        ui::paint("refused", "1;31")
    };
    let place = match gate.target.as_str() {
        "openai" | "azure" | "" => String::new(),
        t => format!(" on {}", provider_name(t)),
    };
    eprintln!(
        "Checked `{}` for `{}`{place}: {} examples, {}, {} ({verdict})",
        gate.file,
        gate.model,
        gate.examples,
        ui::count(gate.errors, "error", "errors"),
        ui::count(gate.warnings, "warning", "warnings"),
    );
    for p in &gate.problems {
        eprintln!("  {p}");
    }
    if gate.errors as usize > gate.problems.len() {
        eprintln!(
            "  … and {} more",
            gate.errors as usize - gate.problems.len()
        );
    }
}

fn provider_name(target: &str) -> &str {
    match target {
        "together" => Provider::Together.name(),
        "fireworks" => Provider::Fireworks.name(),
        other => other,
    }
}

/// The refusal message when a gate did not pass.
pub(crate) fn refuse(gates: &[&Gate]) -> ExitCode {
    let bad: Vec<String> = gates
        .iter()
        .filter(|g| !g.passed())
        .map(|g| format!("`{}`", g.file))
        .collect();
    let target = gates.first().map(|g| g.target.as_str()).unwrap_or_default();
    let how = match target {
        "openai" | "azure" | "" => "`afinar check FILE --model MODEL`".to_owned(),
        t => format!("`afinar check FILE --model MODEL --target {t}`"),
    };
    eprintln!(
        "{} {} {} errors; nothing was uploaded. See {how}, fix, and try again",
        ui::paint("error:", "1;31"),
        bad.join(" and "),
        if bad.len() == 1 { "has" } else { "have" },
    );
    ExitCode::from(exit::DATA)
}

/// Uploads one file, saying so on standard error.
pub(crate) fn upload_one(client: &Client, path: &Path) -> anyhow::Result<FileObject> {
    let file = client.upload_file(path)?;
    eprintln!(
        "Uploaded `{}` to {} as {}",
        path.display(),
        client.provider().name(),
        file.id
    );
    Ok(file)
}

/// Follows a job to its end ([`afinar_openai::follow`]): events and metrics on standard
/// error as they arrive (or JSON lines on standard output), then the loss curve; the
/// fine-tuned model's name on standard output. Exit 0 on success, 3 when the job failed
/// or was cancelled.
pub(crate) fn follow_job(
    client: &Client,
    id: &str,
    interval: Duration,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !json {
        eprintln!("Following job {id} (Ctrl-C stops following, not the job)");
    }
    let mut show = |progress: Progress<'_>| -> std::io::Result<()> {
        match progress {
            Progress::Status(status) if !json => eprintln!("status: {status}"),
            Progress::Status(_) => {}
            Progress::Event(event) if json => {
                let mut out = std::io::stdout().lock();
                serde_json::to_writer(&mut out, &json!({ "event": event }))?;
                writeln!(out)?;
            }
            Progress::Event(event) => {
                let line = follow::event_line(event);
                let level = match line.level {
                    Level::Warning => ui::paint("job warning: ", "33"),
                    Level::Error => ui::paint("job error: ", "31"),
                    Level::Info => String::new(),
                };
                eprintln!("{}{level}{}", line.when, line.text);
            }
            Progress::Outage { error, attempt, of } => {
                eprintln!("warning: {error}; polling again ({attempt} of {of})");
            }
        }
        Ok(())
    };
    let done = follow::follow(client, id, interval, &mut show)?;
    let job = done.job;
    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &json!({ "job": job }))?;
        writeln!(out)?;
    } else {
        for line in follow::curves(&done.metrics) {
            eprintln!("{line}");
        }
    }
    if job.status == JobStatus::Succeeded {
        let name = job.fine_tuned_model.clone().unwrap_or_default();
        if !json {
            eprintln!(
                "{} job {} succeeded; fine-tuned model:",
                ui::paint("done:", "1;32"),
                job.id
            );
            let mut out = std::io::stdout().lock();
            writeln!(out, "{name}")?;
        }
        return Ok(ExitCode::from(exit::OK));
    }
    eprintln!(
        "{} Job `{}` {}",
        ui::paint("error:", "1;31"),
        job.id,
        follow::why_not(&job)
    );
    Ok(ExitCode::from(exit::REMOTE))
}

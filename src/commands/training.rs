//! What `check`, `models`, `run` and `launch` share about the training lifecycle: today's
//! date and the warning when the chosen model cannot (or soon cannot) be trained.

use afinar_check::lifecycle::{self, Date, Level, Lifecycle, Notice};
use afinar_check::{ModelInfo, Registry};
use anyhow::Context;

/// Overrides the system clock (UTC) for the lifecycle: `AFINAR_TODAY=2027-01-07`. Tests
/// and demos use it so a status never depends on the day they run.
pub const TODAY_VAR: &str = "AFINAR_TODAY";

/// Today, from `AFINAR_TODAY` when set, else the system clock in UTC.
pub fn today() -> anyhow::Result<Date> {
    match std::env::var(TODAY_VAR) {
        Ok(v) if !v.trim().is_empty() => {
            lifecycle::date(&v).with_context(|| format!("Cannot use {TODAY_VAR}"))
        }
        _ => Ok(lifecycle::today_utc()),
    }
}

/// The target a model is trained at when none is named: its first training place
/// (open-weight models), else OpenAI.
pub fn default_target(model: &ModelInfo) -> String {
    model
        .place(None)
        .map_or_else(|| "openai".to_owned(), |p| p.target.clone())
}

/// The lifecycle notice for `model` at `target` today, if there is one.
pub fn notice(
    registry: &Registry,
    model: &ModelInfo,
    target: &str,
) -> anyhow::Result<Option<Notice>> {
    Ok(Lifecycle::builtin().notice(registry, model, target, today()?))
}

/// Prints the notice as a warning on standard error.
pub fn warn(notice: &Notice) {
    eprint!("{}", crate::ui::warning(&notice.message));
}

/// Whether `launch` must refuse (nobody can create a job).
pub fn closed(notice: &Notice) -> bool {
    notice.level == Level::Closed
}

/// The lifecycle target of a remote command: `--provider`, else the one the credentials
/// pick (as the client does: OpenAI when `OPENAI_API_KEY` is set, else Azure when
/// `AZURE_OPENAI_ENDPOINT` is).
pub fn remote_target(remote: &super::remote::RemoteArgs) -> String {
    use clap::ValueEnum;
    if let Some(name) = remote
        .provider
        .and_then(|p| p.to_possible_value())
        .map(|v| v.get_name().to_owned())
    {
        return name;
    }
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    if !set("OPENAI_API_KEY") && set("AZURE_OPENAI_ENDPOINT") {
        "azure".to_owned()
    } else {
        "openai".to_owned()
    }
}

/// `launch`'s lifecycle gate, before any credential or upload: warns when the model
/// cannot (or soon cannot) be trained at `target`, and refuses when nobody can create a
/// job there any more, unless `force`. A refusal is a usage error (exit 2): the files
/// are fine and nothing was sent; the model or the provider has to change.
pub fn gate_launch(model: &str, target: &str, force: bool) -> anyhow::Result<()> {
    let registry = Registry::builtin();
    let Some(info) = registry.lookup(model) else {
        // Unknown models are refused later by the file check, with the list of names.
        return Ok(());
    };
    let Some(n) = notice(&registry, info, target)? else {
        return Ok(());
    };
    if closed(&n) && !force {
        anyhow::bail!(
            "Not launching: {}. Pass --force to send the job anyway (the service is likely to refuse it)",
            n.message
        );
    }
    warn(&n);
    Ok(())
}

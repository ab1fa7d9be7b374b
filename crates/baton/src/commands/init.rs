//! `baton init [--force] [--templates]`: writes `.baton/config.toml` in the current folder with the namespace
//! and every default commented, then warns when that namespace already holds assignments created
//! from a checkout at another path (two repositories sharing one namespace would mix their queues).

use crate::cli::{GlobalArgs, InitArgs};
use crate::context::{current_dir, load_config};
use crate::error::CliResult;
use crate::output::{warn, Output};
use baton_core::config::{init_template, BATON_DIR, CONFIG_FILE};
use baton_core::Error;
use serde::Serialize;
use std::path::Path;

#[derive(Serialize)]
struct Initialized {
    path: String,
    namespace: String,
    other_origins: Vec<String>,
}

pub async fn run(args: &InitArgs, global: &GlobalArgs, out: &Output) -> CliResult {
    let cwd = current_dir()?;
    let namespace = namespace_for(&cwd, global);
    if namespace.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            Error::invalid(format!("namespace `{namespace}` must be without spaces, e.g. --namespace my-app")).into()
        );
    }
    let dir = cwd.join(BATON_DIR);
    let path = dir.join(CONFIG_FILE);
    if path.exists() && !args.force {
        return Err(Error::invalid(format!("{} already exists; pass --force to overwrite it", path.display())).into());
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    std::fs::write(&path, init_template(&namespace))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    // The prompt templates, only when asked for: a copy would keep later improvements of the
    // built-ins from reaching this repository. Edited ones are kept unless --force.
    let templates = baton_runner::templates::override_dir(&cwd);
    if args.templates {
        baton_runner::templates::write_builtins(&cwd, args.force)
            .map_err(|e| Error::io(format!("writing templates to {}", templates.display()), e))?;
    }
    // The runner's worktrees and other local state stay out of the repository's history.
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# baton's local state; config.toml and templates/ are meant to be committed
/worktrees/
",
        )
        .map_err(|e| Error::io(format!("writing {}", ignore.display()), e))?;
    }

    // The file is written either way; a failed check is a warning, not a failed init.
    let other_origins = match other_origins(global).await {
        Ok(origins) => origins,
        Err(err) => {
            warn(&format!("could not check whether namespace {namespace} is used by another checkout: {err}"));
            Vec::new()
        }
    };
    if !other_origins.is_empty() {
        warn(&format!(
            "namespace {namespace} already holds assignments created from {}; if this is a different repository, set another namespace in {}",
            other_origins.join(", "),
            path.display()
        ));
    }

    if out.json {
        return out.json(&Initialized { path: path.display().to_string(), namespace, other_origins });
    }
    let wrote_templates =
        if args.templates { format!(" and the prompt templates in {}", templates.display()) } else { String::new() };
    // What agents will run in, so a person knows before the first job whether they are sandboxed.
    let sandbox = baton_runner::sandbox::status(baton_core::config::Sandbox::default());
    out.text(&format!(
        "wrote {} (namespace {namespace}){wrote_templates}\nsandbox: {} ({})\nnext: baton create \"what the agents should achieve\"\n",
        path.display(),
        sandbox.mode,
        sandbox.why,
    ))
}

/// `--namespace`, else `BATON_NAMESPACE`, else the folder's name made valid (no spaces).
fn namespace_for(cwd: &Path, global: &GlobalArgs) -> String {
    let chosen = global
        .namespace
        .clone()
        .or_else(|| std::env::var("BATON_NAMESPACE").ok())
        .map(|ns| ns.trim().to_string())
        .filter(|ns| !ns.is_empty());
    if let Some(ns) = chosen {
        return ns;
    }
    let name: String = cwd
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_whitespace() || c.is_control() { '-' } else { c })
        .collect();
    if name.is_empty() {
        "default".to_string()
    } else {
        name
    }
}

/// The other checkouts that created assignments in the (new) namespace.
async fn other_origins(global: &GlobalArgs) -> CliResult<Vec<String>> {
    let config = load_config(global)?;
    // No database yet means no assignments anywhere; do not create one just to look.
    if let Some(path) = config.database_url.strip_prefix("sqlite://") {
        if !Path::new(path).exists() {
            return Ok(Vec::new());
        }
    }
    let store = baton_store::open_config(&config).await?;
    let root = config.repo_root.display().to_string();
    Ok(store.other_origins(&config.namespace, &root).await?)
}

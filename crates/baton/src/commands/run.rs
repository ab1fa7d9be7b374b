//! `baton run`: the runner daemon in the foreground. Progress goes to stderr as log lines;
//! Ctrl-C (or SIGTERM) stops it gracefully: nothing new is claimed, running jobs get `--grace`
//! seconds, then they are stopped and re-queued without charging the attempt. A second signal
//! stops them at once — their jobs are re-queued all the same before the runner exits; a third
//! exits without waiting.

use crate::cli::RunArgs;
use crate::context::Context;
use crate::error::CliResult;
use baton_runner::containment;
use baton_runner::{run_with_stops, RunnerOptions};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

pub async fn run(ctx: &mut Context, args: RunArgs) -> CliResult {
    init_logging();
    if let Some(job) = ctx.actor.job_id() {
        return Err(baton_core::Error::Scope {
            refusal: format!(
                "`baton run` is refused inside a job (BATON_JOB_ID={job}): agents queue work with insert-job; \
                 a person starts runners"
            ),
        }
        .into());
    }
    let containment =
        containment::select(ctx.config.containment).map_err(|e| baton_core::Error::invalid(e.to_string()))?;
    // Once per run: an edited template copy keeps this repository from a built-in's improvements.
    for name in baton_runner::template_history::edited_overrides_of_changed_builtins(&ctx.config.repo_root) {
        crate::output::warn(&baton_runner::template_history::override_warning(name));
    }
    // Checked and bound before anything starts: a refused or taken address leaves nothing half-started.
    let metrics = match args.metrics {
        Some(addr) => Some(metrics_listener(addr, args.metrics_token).await?),
        None => None,
    };
    let store = ctx.store().await?;
    let config = Arc::new(ctx.config.clone());
    let (metrics_stop, metrics_task) = match metrics {
        Some((listener, token)) => {
            let bound = listener.local_addr().map_err(|e| baton_core::Error::io("reading the metrics address", e))?;
            let app = baton_server::AppState {
                store: store.clone(),
                namespace: ctx.ns().to_string(),
                config: config.clone(),
                token,
                bound,
            };
            eprintln!("baton run: metrics of namespace {} on http://{bound}/metrics", ctx.ns());
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let stopped = async move {
                let _ = stop_rx.await;
            };
            (Some(stop_tx), Some(tokio::spawn(baton_server::serve_metrics(listener, app, stopped))))
        }
        None => (None, None),
    };
    let mut options = RunnerOptions::new(ctx.ns());
    // Parallel agents in one checkout would edit the same files; with worktrees they do not.
    let default_concurrency = match ctx.config.isolation {
        baton_core::config::Isolation::Worktree => 4,
        baton_core::config::Isolation::None => 1,
    };
    options.concurrency = args.concurrency.unwrap_or(default_concurrency) as usize;
    options.until_idle = args.until_idle;
    options.shutdown_grace = Duration::from_secs(args.grace);
    options.lifeline = std::env::current_exe().ok();
    options.containment = options.lifeline.is_some().then_some(containment);
    options.agent_commands = Some(std::sync::Arc::new(crate::job_calls::InRunner));

    let (mut interrupt, mut terminate) = match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => return Err(baton_core::Error::io("installing signal handlers", e).into()),
    };
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    let (second_tx, second_rx) = tokio::sync::oneshot::channel::<()>();
    // The first signal asks for a graceful stop; the second stops the agents at once (and their
    // jobs are still released); a third ends the process without waiting — the lifelines then
    // stop the agents, and the leases expire.
    tokio::spawn(async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
        let _ = first_tx.send(());
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
        let _ = second_tx.send(());
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
        eprintln!("baton run: third signal, exiting without releasing the running jobs");
        std::process::exit(130);
    });
    let shutdown = async move {
        let _ = first_rx.await;
    };
    let now = async move {
        let _ = second_rx.await;
    };
    let ran = run_with_stops(store, config, options, shutdown, now).await;
    if let (Some(stop), Some(task)) = (metrics_stop, metrics_task) {
        let _ = stop.send(());
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("the metrics listener failed: {e}"),
            Err(e) => tracing::warn!("the metrics listener failed: {e}"),
        }
    }
    ran?;
    Ok(())
}

/// The `--metrics` listener, bound, with its token: refused off loopback without one.
async fn metrics_listener(
    addr: std::net::SocketAddr,
    token: Option<String>,
) -> Result<(tokio::net::TcpListener, Option<String>), baton_core::Error> {
    let token = token.filter(|t| !t.is_empty());
    baton_server::check_bind(addr, token.as_deref()).map_err(|m| {
        baton_core::Error::invalid(format!("--metrics {addr}: {}", m.replace("--token", "--metrics-token")))
    })?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        baton_core::Error::io(
            format!("listening for --metrics on {addr} (is another process using it? choose another address, e.g. 127.0.0.1:0)"),
            e,
        )
    })?;
    Ok((listener, token))
}

/// Log lines on stderr: `RUST_LOG` if set, else info-level baton events, compact.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr)
        .compact()
        .try_init();
}

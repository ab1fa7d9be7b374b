//! Serving one attempt's socket: each connection is one `baton` command, checked and then run
//! as the job — in the runner's process when its executor handles the command (see
//! [`super::in_process`]), else by the runner's own binary, its output streamed back as it comes.

use super::in_process::{Call, InProcess, Reply};
use super::protocol::{self, Request};
use super::{policy, same_secret, Scope};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

/// The presentation variables a command's own environment may pass on.
const PASSED_ON: &[&str] = &["COLUMNS", "NO_COLOR"];

/// Accepts connections until the task is aborted; each is served on a task of its own, so a
/// slow command never holds up the next.
pub(super) async fn accept(listener: UnixListener, scope: Arc<Scope>, secret: Arc<String>, open: Arc<AtomicBool>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream, scope.clone(), secret.clone(), open.clone()));
            }
            Err(e) => {
                tracing::warn!(job = %scope.job_id, "the agent socket stopped accepting: {e}");
                return;
            }
        }
    }
}

async fn serve(stream: UnixStream, scope: Arc<Scope>, secret: Arc<String>, open: Arc<AtomicBool>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let outcome = match read_request(&mut read).await {
        Err(e) => Err(format!("the request could not be read ({e}); run `baton` itself, not another client")),
        Ok((request, stdin)) => match admit(&request, &scope, &secret, &open) {
            Err(refusal) => Err(refusal),
            Ok(()) => run(&scope, request, stdin, &mut write).await,
        },
    };
    if let Err(refusal) = outcome {
        let _ = write.write_all(&protocol::frame(protocol::STDERR, format!("error: {refusal}\n").as_bytes())).await;
        let _ = write.write_all(&protocol::exit_frame(1)).await;
    }
    let _ = write.shutdown().await;
}

/// Whether the request may run: this attempt's secret, while the attempt runs, a command a job
/// may run.
fn admit(request: &Request, scope: &Scope, secret: &str, open: &AtomicBool) -> Result<(), String> {
    if !same_secret(&request.token, secret) {
        return Err(format!(
            "BATON_JOB_TOKEN is not the token of job {}'s running attempt; a job's token is accepted only on its \
             own attempt's socket, while that attempt runs",
            scope.job_id
        ));
    }
    if !open.load(Ordering::SeqCst) {
        return Err(format!("job {}'s attempt has ended; nothing more is accepted from it", scope.job_id));
    }
    policy::check(&request.argv, &scope.namespace)
}

async fn read_request(read: &mut (impl AsyncBufReadExt + Unpin)) -> std::io::Result<(Request, Vec<u8>)> {
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let mut line = Vec::new();
    (&mut *read).take(protocol::MAX_HEADER_BYTES as u64 + 1).read_until(b'\n', &mut line).await?;
    if line.last() != Some(&b'\n') {
        return Err(invalid("the request line is missing or too long".into()));
    }
    let request: Request = serde_json::from_slice(&line).map_err(|e| invalid(e.to_string()))?;
    if request.stdin_len > protocol::MAX_STDIN_BYTES {
        return Err(invalid("the standard input is too large".into()));
    }
    let mut stdin = vec![0u8; request.stdin_len as usize];
    read.read_exact(&mut stdin).await?;
    Ok((request, stdin))
}

/// Where the command runs: where it was typed when that is inside the attempt's folder, else
/// the attempt's folder.
fn working_dir(scope: &Scope, asked: &str) -> PathBuf {
    let base = std::fs::canonicalize(&scope.cwd).unwrap_or_else(|_| scope.cwd.clone());
    match std::fs::canonicalize(asked) {
        Ok(dir) if dir.starts_with(&base) => dir,
        _ => base,
    }
}

/// The environment a job's command gets over the runner's: the passed-on presentation variables
/// the agent had, and the job's identity (its database, namespace, job, assignment, token).
fn job_env(scope: &Scope, request: &Request) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> =
        request.env.iter().filter(|(k, _)| PASSED_ON.contains(&k.as_str())).cloned().collect();
    env.extend([
        ("BATON_DATABASE_URL".to_string(), scope.database_url.clone()),
        ("BATON_NAMESPACE".to_string(), scope.namespace.clone()),
        ("BATON_JOB_ID".to_string(), scope.job_id.clone()),
        ("BATON_ASSIGNMENT_ID".to_string(), scope.assignment_id.clone()),
        ("BATON_JOB_TYPE".to_string(), scope.job_type.clone()),
        (protocol::TOKEN_VAR.to_string(), scope.fencing_token.to_string()),
    ]);
    env
}

/// Runs the command as the job and streams its output; `Err` is a refusal not yet sent.
async fn run(
    scope: &Scope,
    request: Request,
    stdin: Vec<u8>,
    write: &mut (impl AsyncWriteExt + Unpin),
) -> Result<(), String> {
    if let Some(here) = scope.in_process.as_ref().filter(|here| here.executor.handles(&request.argv)) {
        return run_here(scope, here, request, stdin, write).await;
    }
    let mut command = tokio::process::Command::new(&scope.baton);
    command
        .args(&request.argv)
        .current_dir(working_dir(scope, &request.cwd))
        .env_remove(protocol::SOCKET_VAR)
        .envs(job_env(scope, &request))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| format!("the runner cannot start {}: {e}", scope.baton.display()))?;
    if let Some(mut input) = child.stdin.take() {
        tokio::spawn(async move {
            let _ = input.write_all(&stdin).await;
            let _ = input.shutdown().await;
        });
    }
    let (frames, mut arriving) = mpsc::channel::<Vec<u8>>(16);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pump(out, protocol::STDOUT, frames.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pump(err, protocol::STDERR, frames.clone()));
    }
    drop(frames);
    while let Some(frame) = arriving.recv().await {
        if write.write_all(&frame).await.is_err() {
            // The command's caller went away: the command goes with it (kill on drop).
            return Ok(());
        }
    }
    let code = match child.wait().await {
        Ok(status) => status.code().unwrap_or(1),
        Err(_) => 1,
    };
    let _ = write.write_all(&protocol::exit_frame(code)).await;
    Ok(())
}

/// Runs the command in this process (on a blocking thread: the command waits in its own way)
/// and sends what it printed, then its exit code.
async fn run_here(
    scope: &Scope,
    here: &InProcess,
    request: Request,
    stdin: Vec<u8>,
    write: &mut (impl AsyncWriteExt + Unpin),
) -> Result<(), String> {
    let call = Call {
        cwd: working_dir(scope, &request.cwd),
        env: job_env(scope, &request),
        argv: request.argv,
        stdin,
        store: here.store.clone(),
    };
    let executor = here.executor.clone();
    let reply = tokio::task::spawn_blocking(move || executor.run(call)).await.unwrap_or_else(|e| Reply {
        stderr: format!("error: internal error (a bug in baton, please report it): the command failed: {e}\n")
            .into_bytes(),
        code: 1,
        ..Reply::default()
    });
    for (tag, bytes) in [(protocol::STDOUT, &reply.stdout), (protocol::STDERR, &reply.stderr)] {
        if !bytes.is_empty() && write.write_all(&protocol::frame(tag, bytes)).await.is_err() {
            return Ok(());
        }
    }
    let _ = write.write_all(&protocol::exit_frame(reply.code)).await;
    Ok(())
}

/// Forwards one of the command's streams as frames, in the order it wrote them.
async fn pump(mut stream: impl AsyncRead + Unpin, tag: u8, frames: mpsc::Sender<Vec<u8>>) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 || frames.send(protocol::frame(tag, &buf[..n])).await.is_err() {
            break;
        }
    }
}

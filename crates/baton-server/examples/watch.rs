//! Runs [`baton_server::watch`] on a database, for trying the live view in a real terminal before
//! (and besides) the CLI's `baton watch`:
//!
//! ```text
//! cargo run -p baton-server --example watch -- sqlite:///tmp/baton.db my-namespace
//! ```
//!
//! On a terminal it draws the live view (quit with q or Ctrl-C); piped, it prints one line per change.

use std::io::IsTerminal;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(namespace)) = (args.next(), args.next()) else {
        return Err("usage: watch DATABASE_URL NAMESPACE".into());
    };
    let store = baton_store::open(&url).await?;
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    baton_server::watch(store, &namespace, stdout.lock(), tty, ctrl_c).await?;
    Ok(())
}

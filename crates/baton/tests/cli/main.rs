//! End-to-end tests: every command through the real `baton` binary, each test in its own
//! temporary folder with its own SQLite database and a HOME that hides the user's real config.

mod common;

mod concurrency;
mod dependencies;
mod doctor;
mod errors;
mod init;
mod inputs;
mod mcp;
mod mcp_client;
mod mutations;
mod output;
mod queries;
mod retention;
mod schedules;
mod supervise;

//! Where things are: the repository root (like git finds `.git`), and the XDG folders.

use std::path::{Path, PathBuf};

/// The folder baton keeps per repository: config, templates, worktrees.
pub const BATON_DIR: &str = ".baton";
/// The config file inside [`BATON_DIR`].
pub const CONFIG_FILE: &str = "config.toml";

/// The repository root the commands act for, and the repo config file if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoLocation {
    pub root: PathBuf,
    pub config_file: Option<PathBuf>,
}

/// Walks up from `cwd`: the first folder holding `.baton/config.toml` is the root; else the first
/// holding `.git` (a folder, or a file in worktrees); else `cwd` itself.
pub fn locate_repo(cwd: &Path) -> RepoLocation {
    for dir in cwd.ancestors() {
        let candidate = dir.join(BATON_DIR).join(CONFIG_FILE);
        if candidate.is_file() {
            return RepoLocation { root: dir.to_path_buf(), config_file: Some(candidate) };
        }
    }
    let root = cwd.ancestors().find(|dir| dir.join(".git").exists()).unwrap_or(cwd).to_path_buf();
    RepoLocation { root, config_file: None }
}

/// Reads an environment variable through the caller's lookup (tests pass their own).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn home(env: EnvLookup<'_>) -> Option<PathBuf> {
    env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

fn xdg(env: EnvLookup<'_>, var: &str, fallback: &str) -> Option<PathBuf> {
    match env(var).filter(|v| Path::new(v).is_absolute()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => home(env).map(|h| h.join(fallback)),
    }
}

/// `$XDG_CONFIG_HOME/baton/config.toml` (default `~/.config/baton/config.toml`).
pub fn user_config_file(env: EnvLookup<'_>) -> Option<PathBuf> {
    xdg(env, "XDG_CONFIG_HOME", ".config").map(|d| d.join("baton").join(CONFIG_FILE))
}

/// `$XDG_DATA_HOME/baton/baton.db` (default `~/.local/share/baton/baton.db`): one database shared
/// by every repository of the user, kept apart by namespaces.
pub fn default_database_path(env: EnvLookup<'_>) -> Option<PathBuf> {
    xdg(env, "XDG_DATA_HOME", ".local/share").map(|d| d.join("baton").join("baton.db"))
}

/// Expands a leading `~/` against HOME.
pub fn expand_home(path: &str, env: EnvLookup<'_>) -> PathBuf {
    match (path.strip_prefix("~/"), home(env)) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_baton_dir_above_git() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::create_dir_all(root.join("a/.git")).unwrap();
        // Only .git: the git top level is the root.
        let loc = locate_repo(&root.join("a/b/c"));
        assert_eq!(loc, RepoLocation { root: root.join("a"), config_file: None });
        // .baton/config.toml wins, even above the git top level.
        std::fs::create_dir_all(root.join(".baton")).unwrap();
        std::fs::write(root.join(".baton/config.toml"), "").unwrap();
        let loc = locate_repo(&root.join("a/b/c"));
        assert_eq!(loc.root, root);
        assert_eq!(loc.config_file, Some(root.join(".baton/config.toml")));
    }

    #[test]
    fn xdg_paths_respect_variables() {
        let env = |k: &str| match k {
            "HOME" => Some("/home/u".to_string()),
            "XDG_DATA_HOME" => Some("/data".to_string()),
            _ => None,
        };
        assert_eq!(default_database_path(&env), Some(PathBuf::from("/data/baton/baton.db")));
        assert_eq!(user_config_file(&env), Some(PathBuf::from("/home/u/.config/baton/config.toml")));
        assert_eq!(expand_home("~/x.db", &env), PathBuf::from("/home/u/x.db"));
    }
}

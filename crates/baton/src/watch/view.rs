//! What the person is looking at in the live view and what each key does to it: the list (with a
//! selected assignment, a text filter and "blocked/idle only"), one assignment's chain, or one
//! job's transcript being followed. Pure state: the loop in `mod.rs` does the reading the
//! returned [`Effect`] asks for.

use super::keys::Key;

/// The page on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    List,
    /// One assignment's chain, by id.
    Chain(String),
    /// One job's transcript; `chain` is the assignment whose chain Escape goes back to (the
    /// list when none).
    Transcript {
        job: String,
        chain: Option<String>,
    },
}

/// A selectable row of the list: its assignment, and the job `l` follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub assignment: String,
    pub job: Option<String>,
}

/// What the loop must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    Redraw,
    Quit,
    /// Read this assignment's chain and show it.
    OpenChain(String),
    /// Read this job's transcript and follow it.
    Follow(String),
}

#[derive(Debug, Clone)]
pub(crate) struct View {
    pub mode: Mode,
    /// The selected assignment of the list, kept by id so updates do not move the selection.
    pub selected: Option<String>,
    /// The selected job of the chain, by id.
    pub selected_job: Option<String>,
    /// Case-insensitive text every listed assignment must contain.
    pub filter: String,
    /// The filter is being typed: keys go into it.
    pub typing: bool,
    /// Only blocked and idle assignments are listed.
    pub needs_only: bool,
}

impl View {
    pub fn new() -> View {
        View {
            mode: Mode::List,
            selected: None,
            selected_job: None,
            filter: String::new(),
            typing: false,
            needs_only: false,
        }
    }

    /// Applies one key. `list` is the list's selectable rows as drawn, `chain` the job ids of the
    /// chain on screen (empty unless one is).
    pub fn key(&mut self, key: Key, list: &[Target], chain: &[String]) -> Effect {
        if key == Key::Interrupt {
            return Effect::Quit;
        }
        if self.typing {
            match key {
                Key::Char(c) => self.filter.push(c),
                Key::Backspace => {
                    self.filter.pop();
                }
                Key::Enter => self.typing = false,
                Key::Escape => {
                    self.filter.clear();
                    self.typing = false;
                }
                _ => {}
            }
            return Effect::Redraw;
        }
        if matches!(key, Key::Char('q' | 'Q')) {
            return Effect::Quit;
        }
        match self.mode.clone() {
            Mode::List => self.list_key(key, list),
            Mode::Chain(_) => self.chain_key(key, chain),
            Mode::Transcript { chain, .. } => {
                if is_back(key) {
                    match chain {
                        Some(id) => return Effect::OpenChain(id),
                        None => self.mode = Mode::List,
                    }
                }
                Effect::Redraw
            }
        }
    }

    fn list_key(&mut self, key: Key, list: &[Target]) -> Effect {
        let at = index_of(list.iter().map(|t| &t.assignment), self.selected.as_ref());
        match key {
            Key::Up | Key::Char('k') => self.selected = list.get(at.saturating_sub(1)).map(|t| t.assignment.clone()),
            Key::Down | Key::Char('j') => {
                self.selected = list.get((at + 1).min(list.len().saturating_sub(1))).map(|t| t.assignment.clone())
            }
            Key::Enter | Key::Right => {
                if let Some(t) = list.get(at) {
                    self.selected = Some(t.assignment.clone());
                    return Effect::OpenChain(t.assignment.clone());
                }
            }
            Key::Char('l') => {
                if let Some(job) = list.get(at).and_then(|t| t.job.clone()) {
                    return Effect::Follow(job);
                }
            }
            Key::Char('/') => self.typing = true,
            Key::Char('b') => self.needs_only = !self.needs_only,
            Key::Escape => self.filter.clear(),
            _ => {}
        }
        Effect::Redraw
    }

    fn chain_key(&mut self, key: Key, chain: &[String]) -> Effect {
        let at = index_of(chain.iter(), self.selected_job.as_ref());
        match key {
            Key::Up | Key::Char('k') => self.selected_job = chain.get(at.saturating_sub(1)).cloned(),
            Key::Down | Key::Char('j') => {
                self.selected_job = chain.get((at + 1).min(chain.len().saturating_sub(1))).cloned()
            }
            Key::Enter | Key::Right | Key::Char('l') => {
                if let Some(job) = chain.get(at) {
                    self.selected_job = Some(job.clone());
                    return Effect::Follow(job.clone());
                }
            }
            k if is_back(k) => self.mode = Mode::List,
            _ => {}
        }
        Effect::Redraw
    }

    /// Shows `job`'s transcript, remembering the chain it was opened from.
    pub fn follow(&mut self, job: String) {
        let chain = match &self.mode {
            Mode::Chain(id) => Some(id.clone()),
            _ => None,
        };
        self.mode = Mode::Transcript { job, chain };
    }
}

/// Escape, Left, Backspace or `h`: one page back.
fn is_back(key: Key) -> bool {
    matches!(key, Key::Escape | Key::Left | Key::Backspace | Key::Char('h'))
}

/// Where `selected` is among `ids`, the first row when it is not there.
fn index_of<'a>(mut ids: impl Iterator<Item = &'a String>, selected: Option<&String>) -> usize {
    selected.and_then(|s| ids.position(|id| id == s)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Vec<Target> {
        ["a1", "a2", "a3"].iter().map(|a| Target { assignment: a.to_string(), job: Some(format!("j{a}")) }).collect()
    }

    #[test]
    fn moving_opening_and_following() {
        let mut v = View::new();
        let list = targets();
        assert_eq!(v.key(Key::Down, &list, &[]), Effect::Redraw);
        assert_eq!(v.selected.as_deref(), Some("a2"));
        v.key(Key::Char('j'), &list, &[]);
        v.key(Key::Char('j'), &list, &[]);
        assert_eq!(v.selected.as_deref(), Some("a3"), "stops at the last row");
        v.key(Key::Up, &list, &[]);
        assert_eq!(v.key(Key::Char('l'), &list, &[]), Effect::Follow("ja2".into()));
        assert_eq!(v.key(Key::Enter, &list, &[]), Effect::OpenChain("a2".into()));
        v.mode = Mode::Chain("a2".into());
        let chain = vec!["x1".to_string(), "x2".to_string()];
        v.key(Key::Down, &[], &chain);
        assert_eq!(v.key(Key::Enter, &[], &chain), Effect::Follow("x2".into()));
        v.follow("x2".into());
        assert_eq!(v.mode, Mode::Transcript { job: "x2".into(), chain: Some("a2".into()) });
        assert_eq!(v.key(Key::Escape, &[], &[]), Effect::OpenChain("a2".into()));
        v.mode = Mode::Chain("a2".into());
        v.key(Key::Escape, &[], &chain);
        assert_eq!(v.mode, Mode::List);
    }

    #[test]
    fn typing_a_filter_takes_every_key_but_interrupt() {
        let mut v = View::new();
        v.key(Key::Char('/'), &[], &[]);
        for c in "qb/x".chars() {
            assert_eq!(v.key(Key::Char(c), &[], &[]), Effect::Redraw);
        }
        v.key(Key::Backspace, &[], &[]);
        v.key(Key::Enter, &[], &[]);
        assert_eq!((v.filter.as_str(), v.typing), ("qb/", false));
        assert!(!v.needs_only, "b typed into the filter is not the toggle");
        v.key(Key::Char('b'), &[], &[]);
        assert!(v.needs_only);
        v.key(Key::Escape, &[], &[]);
        assert_eq!(v.filter, "");
        assert_eq!(v.key(Key::Interrupt, &[], &[]), Effect::Quit);
        assert_eq!(v.key(Key::Char('q'), &[], &[]), Effect::Quit);
    }
}

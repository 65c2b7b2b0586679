#![forbid(unsafe_code)]
//! Registered services: id patterns with `{placeholders}`, pid-file templates, and the stop
//! defaults of each id. Also finds the ids of a template whose pid files exist (for stop_all).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::{Error, Result, ServiceSpec};

/// One piece of a pattern or template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Hole(String),
}

fn parse(text: &str, what: &str) -> Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                pieces.push(Piece::Literal(rest.to_owned()));
                break;
            }
            Some(i) if rest.as_bytes()[i] == b'}' => {
                return Err(Error::invalid(format!(
                    "{what} {text:?}: '}}' without '{{'"
                )));
            }
            Some(i) => {
                if i > 0 {
                    pieces.push(Piece::Literal(rest[..i].to_owned()));
                }
                let close = rest[i..]
                    .find('}')
                    .ok_or_else(|| Error::invalid(format!("{what} {text:?}: '{{' without '}}'")))?;
                let name = &rest[i + 1..i + close];
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    return Err(Error::invalid(format!(
                        "{what} {text:?}: placeholder {{{name}}} must be a non-empty name of letters, digits and '_'"
                    )));
                }
                pieces.push(Piece::Hole(name.to_owned()));
                rest = &rest[i + close + 1..];
            }
        }
    }
    Ok(pieces)
}

/// Whether `value` may fill a placeholder: one or more of [A-Za-z0-9._-], never "..".
fn fits(value: &str) -> bool {
    !value.is_empty()
        && !value.contains("..")
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Matches `text` against `pieces`, binding placeholders (shortest first, left to right).
fn match_pieces(pieces: &[Piece], text: &str, bound: &mut Vec<(String, String)>) -> bool {
    match pieces.split_first() {
        None => text.is_empty(),
        Some((Piece::Literal(lit), rest)) => text
            .strip_prefix(lit.as_str())
            .is_some_and(|t| match_pieces(rest, t, bound)),
        Some((Piece::Hole(name), rest)) => {
            if let Some((_, value)) = bound.iter().find(|(n, _)| n == name) {
                let value = value.clone();
                return text
                    .strip_prefix(value.as_str())
                    .is_some_and(|t| match_pieces(rest, t, bound));
            }
            for end in text
                .char_indices()
                .map(|(i, _)| i)
                .skip(1)
                .chain([text.len()])
            {
                let value = &text[..end];
                if !fits(value) {
                    break; // a longer value keeps the offending byte or ".."
                }
                bound.push((name.clone(), value.to_owned()));
                if match_pieces(rest, &text[end..], bound) {
                    return true;
                }
                bound.pop();
            }
            false
        }
    }
}

fn expand(pieces: &[Piece], bound: &[(String, String)]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Literal(l) => l.as_str(),
            Piece::Hole(n) => bound
                .iter()
                .find(|(b, _)| b == n)
                .map_or("", |(_, v)| v.as_str()),
        })
        .collect()
}

/// A registered service.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pattern_text: String,
    pattern: Vec<Piece>,
    template: Option<Vec<Piece>>,
    pub program: Option<OsString>,
    pub stop_signal: Option<i32>,
    pub stop_timeout: Option<Duration>,
    pub never_kill: bool,
}

impl Service {
    fn is_exact(&self) -> bool {
        self.pattern.iter().all(|p| matches!(p, Piece::Literal(_)))
    }

    fn literal_len(&self) -> usize {
        self.pattern
            .iter()
            .map(|p| {
                if let Piece::Literal(l) = p {
                    l.len()
                } else {
                    0
                }
            })
            .sum()
    }

    /// The pid file of `id`, if this service matches it and has a template.
    fn pid_file_for(&self, id: &str) -> Option<Option<PathBuf>> {
        let mut bound = Vec::new();
        match_pieces(&self.pattern, id, &mut bound).then(|| {
            self.template
                .as_ref()
                .map(|t| PathBuf::from(expand(t, &bound)))
        })
    }
}

/// What the registry knows of one id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolved {
    pub pid_file: Option<PathBuf>,
    pub program: Option<OsString>,
    pub stop_signal: Option<i32>,
    pub stop_timeout: Option<Duration>,
    pub never_kill: bool,
}

/// Every registered service, in registration order.
#[derive(Debug, Default)]
pub(crate) struct Services {
    list: Vec<Service>,
}

impl Services {
    /// Validates and adds `spec`, replacing an earlier registration of the same pattern.
    pub fn register(&mut self, spec: ServiceSpec) -> Result<()> {
        let pattern = parse(&spec.id_pattern, "id pattern")?;
        let template = spec
            .pid_file_template
            .as_deref()
            .map(|t| parse(t, "pid file template"))
            .transpose()?;
        if let Some(t) = &template {
            for piece in t {
                if let Piece::Hole(name) = piece {
                    if !pattern.contains(piece) {
                        return Err(Error::invalid(format!(
                            "pid file template {:?} uses {{{name}}}, which id pattern {:?} lacks",
                            spec.pid_file_template.as_deref().unwrap_or_default(),
                            spec.id_pattern
                        )));
                    }
                }
            }
        }
        let service = Service {
            pattern_text: spec.id_pattern,
            pattern,
            template,
            program: spec.program,
            stop_signal: spec.stop_signal,
            stop_timeout: spec.stop_timeout,
            never_kill: spec.never_kill,
        };
        self.list.retain(|s| s.pattern_text != service.pattern_text);
        self.list.push(service);
        Ok(())
    }

    /// The service for `id`: an exact id beats a pattern; among patterns the one with the most
    /// literal text wins, and the later registration breaks a tie.
    fn find(&self, id: &str) -> Option<(&Service, Option<PathBuf>)> {
        self.list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.pid_file_for(id).map(|p| (i, s, p)))
            .max_by_key(|(i, s, _)| (s.is_exact(), s.literal_len(), *i))
            .map(|(_, s, p)| (s, p))
    }

    /// What is registered for `id` (all defaults when nothing is).
    pub fn resolve(&self, id: &str) -> Resolved {
        match self.find(id) {
            None => Resolved::default(),
            Some((s, pid_file)) => Resolved {
                pid_file,
                program: s.program.clone(),
                stop_signal: s.stop_signal,
                stop_timeout: s.stop_timeout,
                never_kill: s.never_kill,
            },
        }
    }

    /// Registered exact ids, and for each pattern with a template, the ids whose pid files exist
    /// on disk (placeholders globbed directory by directory).
    pub fn candidate_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for s in &self.list {
            if s.is_exact() {
                ids.push(s.pattern_text.clone());
                continue;
            }
            let Some(template) = &s.template else {
                continue;
            };
            for bound in glob(template) {
                let id = expand(&s.pattern, &bound);
                // The id must map back to this very service (another may be more specific).
                if self
                    .find(&id)
                    .is_some_and(|(found, _)| std::ptr::eq(found, s))
                {
                    ids.push(id);
                }
            }
        }
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Every binding of a template's placeholders for which the file exists.
fn glob(template: &[Piece]) -> Vec<Vec<(String, String)>> {
    // Split the template into path components, each a list of pieces.
    let mut components: Vec<Vec<Piece>> = vec![Vec::new()];
    for piece in template {
        match piece {
            Piece::Hole(_) => components
                .last_mut()
                .expect("never empty")
                .push(piece.clone()),
            Piece::Literal(l) => {
                let mut parts = l.split('/');
                if let Some(first) = parts.next() {
                    if !first.is_empty() {
                        components
                            .last_mut()
                            .expect("never empty")
                            .push(Piece::Literal(first.into()));
                    }
                }
                for part in parts {
                    components.push(Vec::new());
                    if !part.is_empty() {
                        components
                            .last_mut()
                            .expect("never empty")
                            .push(Piece::Literal(part.into()));
                    }
                }
            }
        }
    }
    let absolute = components.first().is_some_and(Vec::is_empty);
    let start = if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::from(".")
    };
    let components: Vec<Vec<Piece>> = components.into_iter().filter(|c| !c.is_empty()).collect();
    let mut found = Vec::new();
    walk(start, &components, Vec::new(), &mut found);
    found
}

fn walk(
    dir: PathBuf,
    rest: &[Vec<Piece>],
    bound: Vec<(String, String)>,
    found: &mut Vec<Vec<(String, String)>>,
) {
    let Some((component, deeper)) = rest.split_first() else {
        found.push(bound);
        return;
    };
    if component.iter().all(|p| matches!(p, Piece::Literal(_))) {
        let next = dir.join(expand(component, &bound));
        if deeper.is_empty() && !next.exists() {
            return;
        }
        walk(next, deeper, bound, found);
        return;
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let mut b = bound.clone();
        if match_pieces(component, &name, &mut b) {
            walk(dir.join(&name), deeper, b, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(pattern: &str, template: Option<&str>) -> Services {
        let mut s = Services::default();
        let mut spec = ServiceSpec::new(pattern);
        spec.pid_file_template = template.map(str::to_owned);
        s.register(spec).unwrap();
        s
    }

    #[test]
    fn placeholders_match_their_alphabet_and_never_dot_dot() {
        let s = reg(
            "php-fpm-{version}",
            Some("/run/php/{version}/php{version}-fpm.pid"),
        );
        assert_eq!(
            s.resolve("php-fpm-8.3").pid_file,
            Some("/run/php/8.3/php8.3-fpm.pid".into())
        );
        assert_eq!(s.resolve("php-fpm-").pid_file, None);
        assert_eq!(s.resolve("php-fpm-..").pid_file, None);
        assert_eq!(s.resolve("php-fpm-a/b").pid_file, None);
        assert_eq!(s.resolve("php-fpm-8.3 ").pid_file, None);
    }

    #[test]
    fn two_placeholders_bind_shortest_first() {
        let s = reg(
            "internal-postgres-{major}-{instance}",
            Some("/d/{instance}/{major}.pid"),
        );
        assert_eq!(
            s.resolve("internal-postgres-16-my_db").pid_file,
            Some("/d/my_db/16.pid".into())
        );
    }

    #[test]
    fn bad_templates_are_refused() {
        let mut s = Services::default();
        for (p, t) in [
            ("a-{x}", "/{y}.pid"),
            ("a-{x", "/p"),
            ("a-}", "/p"),
            ("a-{}", "/p"),
            ("a-{x}", "/{x"),
        ] {
            let spec = ServiceSpec::new(p).pid_file_template(t);
            assert!(s.register(spec).is_err(), "{p} {t}");
        }
    }

    #[test]
    fn exact_beats_pattern_and_reregistering_replaces() {
        let mut s = reg("svc-{n}", Some("/p/{n}.pid"));
        s.register(ServiceSpec::new("svc-one").pid_file_template("/exact.pid"))
            .unwrap();
        assert_eq!(s.resolve("svc-one").pid_file, Some("/exact.pid".into()));
        assert_eq!(s.resolve("svc-two").pid_file, Some("/p/two.pid".into()));
        s.register(ServiceSpec::new("svc-{n}").pid_file_template("/q/{n}.pid"))
            .unwrap();
        assert_eq!(s.resolve("svc-two").pid_file, Some("/q/two.pid".into()));
    }

    #[test]
    fn glob_finds_the_ids_whose_pid_files_exist() {
        let dir = std::env::temp_dir().join(format!("grazr-glob-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("8.2/run")).unwrap();
        std::fs::create_dir_all(dir.join("8.3/run")).unwrap();
        std::fs::write(dir.join("8.2/run/php8.2.pid"), "1\n").unwrap();
        std::fs::write(dir.join("8.3/run/php8.2.pid"), "1\n").unwrap(); // mismatched: not 8.3's
        let t = format!("{}/{{v}}/run/php{{v}}.pid", dir.display());
        let s = reg("php-fpm-{v}", Some(&t));
        assert_eq!(s.candidate_ids(), vec!["php-fpm-8.2".to_string()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

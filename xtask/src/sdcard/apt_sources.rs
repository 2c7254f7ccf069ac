//! Whether apt's sources offer Debian's `non-free-firmware` component (home of
//! `raspi-firmware`), and the sources file that adds it.

use std::path::{Path, PathBuf};

/// The component that holds `raspi-firmware` since Debian 12.
pub const COMPONENT: &str = "non-free-firmware";

/// The sources file xtask writes (as root) when no source offers the component.
pub const FILE: &str = "/etc/apt/sources.list.d/bulkhead-non-free-firmware.sources";

/// A sources file's name and text.
pub struct SourcesFile {
    /// Where it was read from, for messages.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// Reads `/etc/apt/sources.list` and every `*.list` / `*.sources` in `sources.list.d/` under
/// `etc_apt` (unreadable files are skipped: apt would complain about them itself).
pub fn read(etc_apt: &Path) -> Vec<SourcesFile> {
    let mut paths = vec![etc_apt.join("sources.list")];
    if let Ok(entries) = std::fs::read_dir(etc_apt.join("sources.list.d")) {
        let mut more: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "list" || e == "sources"))
            .collect();
        more.sort();
        paths.extend(more);
    }
    paths
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            Some(SourcesFile { path, text })
        })
        .collect()
}

/// Whether some enabled `deb` source for `suite` lists `component`.
pub fn offers(files: &[SourcesFile], suite: &str, component: &str) -> bool {
    files.iter().any(|file| {
        let deb822 = file.path.extension().is_some_and(|e| e == "sources");
        if deb822 {
            stanzas(&file.text).any(|s| stanza_offers(&s, suite, component))
        } else {
            file.text
                .lines()
                .any(|line| one_line_offers(line, suite, component))
        }
    })
}

/// `deb [options] URI SUITE COMPONENT...` (the one-line format of `*.list`).
fn one_line_offers(line: &str, suite: &str, component: &str) -> bool {
    let line = line.split('#').next().unwrap_or("");
    let Some(rest) = line.trim().strip_prefix("deb ") else {
        return false;
    };
    let rest = rest.trim_start();
    let rest = match rest.strip_prefix('[') {
        Some(options) => options.split_once(']').map_or("", |(_, r)| r),
        None => rest,
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    matches!(words.as_slice(), [_, s, components @ ..] if *s == suite && components.contains(&component))
}

/// The stanzas of a deb822 `*.sources` file, each as `(lowercase field, value)` pairs.
fn stanzas(text: &str) -> impl Iterator<Item = Vec<(String, String)>> + '_ {
    text.split("\n\n").map(|stanza| {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in stanza.lines().filter(|l| !l.trim_start().starts_with('#')) {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((key, value)) = line.split_once(':') {
                fields.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        fields
    })
}

fn stanza_offers(fields: &[(String, String)], suite: &str, component: &str) -> bool {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let has = |name: &str, word: &str| {
        field(name).is_some_and(|v| v.split_whitespace().any(|w| w == word))
    };
    let enabled = field("enabled").is_none_or(|v| !v.eq_ignore_ascii_case("no"));
    enabled && has("types", "deb") && has("suites", suite) && has("components", component)
}

/// The text of [`FILE`] for the Debian release `suite` (only the missing component: `main`
/// is already configured, and apt warns about a component configured twice).
pub fn stanza(suite: &str) -> String {
    format!(
        "# Added by `cargo xtask sdcard` for raspi-firmware (start4.elf, fixup4.dat).\n\
         Types: deb\n\
         URIs: http://deb.debian.org/debian\n\
         Suites: {suite}\n\
         Components: {COMPONENT}\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> SourcesFile {
        SourcesFile {
            path: PathBuf::from(name),
            text: text.to_string(),
        }
    }

    const DEBIAN_12_DEFAULT: &str = "Types: deb\nURIs: http://deb.debian.org/debian\n\
        Suites: bookworm bookworm-updates\nComponents: main\n\
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
        Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\
        Components: main\n";

    #[test]
    fn a_main_only_system_lacks_the_component() {
        let files = [file("debian.sources", DEBIAN_12_DEFAULT)];
        assert!(!offers(&files, "bookworm", COMPONENT));
    }

    #[test]
    fn the_written_stanza_offers_the_component() {
        let files = [
            file("debian.sources", DEBIAN_12_DEFAULT),
            file(FILE, &stanza("bookworm")),
        ];
        assert!(offers(&files, "bookworm", COMPONENT));
    }

    #[test]
    fn a_disabled_stanza_does_not_count() {
        let text = format!("{}Enabled: no\n", stanza("bookworm"));
        assert!(!offers(&[file("x.sources", &text)], "bookworm", COMPONENT));
    }

    #[test]
    fn a_one_line_source_with_options_counts() {
        let text = "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian bookworm main contrib non-free-firmware\n";
        assert!(offers(&[file("sources.list", text)], "bookworm", COMPONENT));
    }

    #[test]
    fn another_suite_or_a_comment_does_not_count() {
        let text = "deb http://deb.debian.org/debian bookworm-backports main non-free-firmware\n\
                    # deb http://deb.debian.org/debian bookworm non-free-firmware\n\
                    deb-src http://deb.debian.org/debian bookworm non-free-firmware\n";
        assert!(!offers(
            &[file("sources.list", text)],
            "bookworm",
            COMPONENT
        ));
    }
}

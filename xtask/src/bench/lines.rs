//! Counting lines of code: non-blank lines that are not only comments, with test code apart.
//!
//! Test code is every item under a `#[cfg(test)]` attribute (usually `mod tests { ... }`), a
//! file with `#![cfg(test)]`, and every file under a `tests/` folder.

use anyhow::Result;
use std::path::Path;

/// Lines of code in some sources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    /// Code that is built into the product.
    pub code: u64,
    /// Code that only tests build.
    pub tests: u64,
}

impl std::ops::AddAssign for Lines {
    fn add_assign(&mut self, other: Lines) {
        self.code += other.code;
        self.tests += other.tests;
    }
}

/// Where the scanner is between lines.
#[derive(Default)]
struct Scanner {
    /// Open `/* */` comments (Rust nests them).
    comment_depth: u32,
    /// Inside a string literal that goes on past the line's end.
    in_string: bool,
    /// Brace depth of code.
    depth: i64,
}

impl Scanner {
    /// Scans one line (updating the brace depth); returns whether it holds code.
    fn line(&mut self, line: &str) -> bool {
        let chars: Vec<char> = line.chars().collect();
        let mut code = false;
        let mut i = 0;
        while i < chars.len() {
            let (c, next) = (chars[i], chars.get(i + 1).copied());
            if self.comment_depth > 0 {
                if (c, next) == ('*', Some('/')) {
                    self.comment_depth -= 1;
                    i += 1;
                } else if (c, next) == ('/', Some('*')) {
                    self.comment_depth += 1;
                    i += 1;
                }
            } else if self.in_string {
                code = true;
                match c {
                    '\\' => i += 1,
                    '"' => self.in_string = false,
                    _ => {}
                }
            } else {
                match (c, next) {
                    ('/', Some('/')) => break,
                    ('/', Some('*')) => {
                        self.comment_depth += 1;
                        i += 2;
                        continue;
                    }
                    ('"', _) => self.in_string = true,
                    // An escaped character literal: skip to its closing quote.
                    ('\'', Some('\\')) => {
                        i += 3;
                        while i < chars.len() && chars[i] != '\'' {
                            i += 1;
                        }
                    }
                    // A one-character literal (a lone quote is a lifetime).
                    ('\'', Some(_)) if chars.get(i + 2) == Some(&'\'') => i += 2,
                    ('{', _) => self.depth += 1,
                    ('}', _) => self.depth -= 1,
                    _ => {}
                }
                code |= !c.is_whitespace();
            }
            i += 1;
        }
        code
    }
}

/// Counts the lines of one Rust source file.
pub fn count_rust(text: &str, all_tests: bool) -> Lines {
    let mut scanner = Scanner::default();
    let mut lines = Lines::default();
    let mut whole_file_tests = all_tests;
    // The depth at which a test item started, once its `{` opened; `pending` until then.
    let mut test_item: Option<i64> = None;
    let mut pending = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#![cfg(test)]") {
            whole_file_tests = true;
        }
        let starts_test = scanner.comment_depth == 0
            && !scanner.in_string
            && test_item.is_none()
            && trimmed.starts_with("#[cfg(test)]");
        if starts_test {
            pending = true;
        }
        let depth_before = scanner.depth;
        let is_code = scanner.line(line);
        let in_test = whole_file_tests || pending || test_item.is_some();
        if is_code {
            if in_test {
                lines.tests += 1;
            } else {
                lines.code += 1;
            }
        }
        if pending && !starts_test && is_code {
            if scanner.depth > depth_before {
                test_item = Some(depth_before);
                pending = false;
            } else if line.trim_end().ends_with(';') || line.trim_end().ends_with('}') {
                pending = false;
            }
        }
        if test_item.is_some_and(|start| scanner.depth <= start) {
            test_item = None;
        }
    }
    lines
}

/// Counts the lines of one assembly file (`//` comments).
pub fn count_assembly(text: &str) -> u64 {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .count() as u64
}

/// Adds up the `.rs` and `.S` files under `dir`: Rust lines and assembly lines.
pub fn count_tree(dir: &Path) -> Result<(Lines, u64)> {
    let mut rust = Lines::default();
    let mut assembly = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            let (inner_rust, inner_assembly) = count_tree(&path)?;
            rust += inner_rust;
            assembly += inner_assembly;
            continue;
        }
        let in_tests = path.components().any(|c| c.as_os_str() == "tests");
        match path.extension().and_then(|e| e.to_str()) {
            Some("rs") => rust += count_rust(&std::fs::read_to_string(&path)?, in_tests),
            Some("S") => assembly += count_assembly(&std::fs::read_to_string(&path)?),
            _ => {}
        }
    }
    Ok((rust, assembly))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_comment_lines_do_not_count() {
        let text = "//! Doc.\n\n/* block\n { still comment */\nfn main() { // hi\n    let s = \"{ // \";\n}\n";
        assert_eq!(count_rust(text, false), Lines { code: 3, tests: 0 });
    }

    #[test]
    fn cfg_test_items_count_as_tests() {
        let text = "\
fn real() {}
#[cfg(test)]
use std::fmt;
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_in_chars() {
        let _ = ('{', '\\'', \"}\");
    }
}
fn after<'a>(x: &'a str) -> &'a str {
    x
}
";
        assert_eq!(count_rust(text, false), Lines { code: 4, tests: 10 });
        assert_eq!(count_rust(text, true), Lines { code: 0, tests: 14 });
    }

    #[test]
    fn assembly_comments_do_not_count() {
        assert_eq!(count_assembly("// entry\n\n_start:\n    b 1f // loop\n"), 2);
    }
}

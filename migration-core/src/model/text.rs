//! Text shown to people: a migration's summary, durations.

/// The leading `//!` paragraph of a migration's source, as written: what the
/// migration does.
pub fn summary_of(source: &str) -> &str {
    let start = source.find("//!").unwrap_or(source.len());
    let mut end = start;
    for line in source[start..].split_inclusive('\n') {
        let text = line.trim();
        if !text.starts_with("//!") || text == "//!" {
            break;
        }
        end += line.len();
    }
    source[start..end].trim_end()
}

/// A `//!` paragraph joined into one line.
pub fn one_line_doc(doc: &str) -> String {
    doc.lines()
        .map(|l| l.trim().trim_start_matches("//!").trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `850 µs`, `12 ms`, `1.25 s`.
pub fn fmt_duration(d: std::time::Duration) -> String {
    let micros = d.as_micros();
    if micros < 1000 {
        format!("{micros} µs")
    } else if micros < 10_000_000 {
        format!("{} ms", micros / 1000)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_summary_is_the_leading_doc_paragraph_in_one_line() {
        let source = "//! Adds `x`\n//! to jobs.\n//!\n//! More.\nuse a;\n";
        let doc = super::summary_of(source);
        assert_eq!(doc, "//! Adds `x`\n//! to jobs.");
        assert_eq!(super::one_line_doc(doc), "Adds `x` to jobs.");
        assert_eq!(super::summary_of("use a;\n"), "");
    }
}

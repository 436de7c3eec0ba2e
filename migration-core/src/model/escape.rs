//! Text from the database or the command line, made safe to print: every
//! control character (and each Unicode line separator or direction
//! override) is shown escaped, `\n`, `\r`, `\t`, `\x1b`, `\u{2028}`, so a
//! name can neither start a line of its own (forging an `error:` line) nor
//! send a terminal escape sequence. Backslashes are left as they are, so
//! escaping twice changes nothing.

use std::borrow::Cow;

/// Whether `c` is shown escaped.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with its control characters escaped (see the module docs).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(escape("jobs"), "jobs");
        assert_eq!(escape("café \\ \"x\""), "café \\ \"x\"");
        assert_eq!(
            escape("t\nerror: FORGED\r\t\u{1b}[31m\u{7f}\u{85}"),
            "t\\nerror: FORGED\\r\\t\\x1b[31m\\x7f\\x85"
        );
        assert_eq!(escape("a\u{2028}b\u{202e}c"), "a\\u{2028}b\\u{202e}c");
        assert_eq!(
            escape(&escape("a\nb")),
            "a\\nb",
            "escaping twice changes nothing"
        );
    }
}

//! How an error is shown: on one line, with every password masked. The
//! CLI prints this; applications that log the migrator's errors can too.

use sea_orm::DbErr;

/// The error and its causes on one line, `: `-separated, with any password of
/// `secret` masked. This is what the CLI prints.
pub fn one_line(err: &(dyn std::error::Error + 'static), secrets: &[&str]) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        // A DbErr's own sources repeat it in the driver's words: stop there.
        let (text, last) = match cause.downcast_ref::<DbErr>() {
            Some(db_err) => (describe_db_err(db_err), true),
            None => (cause.to_string(), false),
        };
        if !text.is_empty() && !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        if last {
            break;
        }
        source = cause.source();
    }
    // One line whatever the database or the arguments said: their control
    // characters are shown escaped.
    mask_passwords(&crate::model::escape::escape(&line), secrets)
}

/// `text` with every password it shows replaced by `***`: the password
/// component of each URL, every `password=` value, and each of `secrets`
/// where it stands quoted as a whole token. Nothing else is touched, so a
/// short password does not turn every matching letter into stars.
pub(crate) fn mask_passwords(text: &str, secrets: &[&str]) -> String {
    let text = mask_url_userinfo(text);
    let text = mask_password_values(&text, secrets);
    mask_quoted(&text, secrets)
}

/// Where each `scheme://user:password@host` in `text` has its password.
fn mask_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let before = &rest[..at];
        let scheme_len = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .count();
        let after = &rest[at + 3..];
        out.push_str(&rest[..at + 3]);
        rest = after;
        if scheme_len == 0 {
            continue;
        }
        let authority_len = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_len];
        let Some(userinfo_len) = authority.rfind('@') else {
            continue;
        };
        let userinfo = &authority[..userinfo_len];
        if let Some(colon) = userinfo.find(':') {
            out.push_str(&userinfo[..=colon]);
            out.push_str("***");
            out.push_str(&after[userinfo_len..authority_len]);
            rest = &after[authority_len..];
        }
    }
    out.push_str(rest);
    out
}

/// Where `password=` starts a value (in a URL's query or a `key=value`
/// connection string): the value, quoted or up to `&`, `#` or a space.
fn mask_password_values(text: &str, secrets: &[&str]) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.to_ascii_lowercase().find(KEY) {
        let starts_key = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        out.push_str(&rest[..at + KEY.len()]);
        rest = &rest[at + KEY.len()..];
        if !starts_key {
            continue;
        }
        if let Some(quote) = rest.chars().next().filter(|c| matches!(c, '\'' | '"'))
            && let Some(end) = rest[1..].find(quote)
        {
            out.push(quote);
            out.push_str("***");
            rest = &rest[1 + end..];
            continue;
        }
        let len = rest
            .find(|c: char| matches!(c, '&' | '#') || c.is_whitespace())
            .unwrap_or(rest.len());
        let value = &rest[..len];
        // A `:` or `,` closing the value is the message's own punctuation,
        // unless it is part of a known password.
        let punctuation = [':', ',', ';', ')'];
        let kept = secrets
            .iter()
            .filter(|s| !s.is_empty())
            .filter(|s| {
                value
                    .strip_prefix(**s)
                    .is_some_and(|tail| tail.chars().all(|c| punctuation.contains(&c)))
            })
            .map(|s| s.len())
            .max()
            .unwrap_or_else(|| value.trim_end_matches(punctuation).len());
        if kept > 0 {
            out.push_str("***");
        }
        rest = &rest[kept..];
    }
    out.push_str(rest);
    out
}

/// Each secret where it stands as a quoted token: `"s"`, `'s'`.
fn mask_quoted(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for quote in ['"', '\''] {
            text = text.replace(
                &format!("{quote}{secret}{quote}"),
                &format!("{quote}***{quote}"),
            );
        }
    }
    text
}

/// A [`DbErr`] in the database's own words.
pub fn describe_db_err(err: &DbErr) -> String {
    use sea_orm::RuntimeErr;
    let runtime = match err {
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        DbErr::ConnectionAcquire(e) => return e.to_string(),
        DbErr::Custom(s) | DbErr::Migration(s) | DbErr::Type(s) | DbErr::Json(s) => {
            return s.clone();
        }
        other => return other.to_string(),
    };
    match runtime {
        RuntimeErr::SqlxError(e) => match e.as_ref() {
            sea_orm::sqlx::Error::Database(db) => db.message().to_owned(),
            sea_orm::sqlx::Error::PoolTimedOut => "timed out".to_owned(),
            other => other.to_string(),
        },
        RuntimeErr::Internal(s) => s.clone(),
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_passwords;

    #[test]
    fn short_passwords_mask_only_the_url_password() {
        for password in ["s", "1", "pg", "127", "tgr"] {
            let line = format!(
                "cannot connect to postgres://nouser:{password}@127.0.0.1:5432/db: role \
                 \"nouser\" does not exist"
            );
            assert_eq!(
                mask_passwords(&line, &[password]),
                "cannot connect to postgres://nouser:***@127.0.0.1:5432/db: role \"nouser\" \
                 does not exist",
                "password {password:?}"
            );
        }
    }

    #[test]
    fn a_password_equal_to_the_user_or_host_leaves_them_shown() {
        let line = "cannot connect to postgres://app:app@db.internal/app: password authentication \
                    failed for user \"app\"";
        // The target does not offer a password equal to its user name as a
        // token to mask, so only the URL's password goes.
        assert_eq!(
            mask_passwords(line, &[]),
            "cannot connect to postgres://app:***@db.internal/app: password authentication \
             failed for user \"app\""
        );
        let line = "cannot connect to postgres://u:localhost@localhost:5432/localhost: timed out";
        assert_eq!(
            mask_passwords(line, &[]),
            "cannot connect to postgres://u:***@localhost:5432/localhost: timed out"
        );
    }

    #[test]
    fn url_encoded_and_unusual_passwords() {
        let line = "cannot connect to postgresql://u:p%40ss%3Aw%2Fd@[::1]:5432/x?sslmode=require: \
                    refused";
        assert_eq!(
            mask_passwords(line, &["p%40ss%3Aw%2Fd", "p@ss:w/d"]),
            "cannot connect to postgresql://u:***@[::1]:5432/x?sslmode=require: refused"
        );
        // An empty password and a URL without one stay as they are.
        assert_eq!(
            mask_passwords("at postgres://u:@h/x and postgres://u@h/x", &[]),
            "at postgres://u:***@h/x and postgres://u@h/x"
        );
        // Already masked text is unchanged.
        let masked = "cannot connect to postgres://u:***@h/x?password=***: refused";
        assert_eq!(mask_passwords(masked, &[]), masked);
    }

    #[test]
    fn password_values_in_queries_and_connection_strings() {
        assert_eq!(
            mask_passwords(
                "cannot connect to postgres://h/x?user=u&password=s&sslmode=require: refused",
                &["s"]
            ),
            "cannot connect to postgres://h/x?user=u&password=***&sslmode=require: refused"
        );
        assert_eq!(
            mask_passwords("cannot connect to postgres://h/x?password=ab: refused", &[]),
            "cannot connect to postgres://h/x?password=***: refused"
        );
        assert_eq!(
            mask_passwords(
                "cannot connect to postgres://h/x?password=a:: refused",
                &["a:"]
            ),
            "cannot connect to postgres://h/x?password=***: refused"
        );
        assert_eq!(
            mask_passwords("host=h password='x y' user=u sslpassword=k", &[]),
            "host=h password='***' user=u sslpassword=k"
        );
    }

    #[test]
    fn a_password_echoed_as_a_quoted_token() {
        assert_eq!(
            mask_passwords(
                "invalid value \"s3\" for parameter near 's3' in \"as3s\" and s3",
                &["s3"]
            ),
            "invalid value \"***\" for parameter near '***' in \"as3s\" and s3"
        );
    }
}

//! A URL as it may be shown, and the passwords it holds, so that messages
//! echoing them can be masked (see [`crate::one_line`]).

/// A URL's shown form and its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Masked {
    /// The URL with each password replaced by `***`.
    pub(super) shown: String,
    /// The passwords to mask wherever text might echo them: as written and,
    /// when it differs, percent-decoded. A password that is also the user
    /// name, host or database name is not among them.
    pub(super) secrets: Vec<String>,
}

/// [`Masked`] of `url`: its password component and every `password=`
/// parameter. Hand-written on `url`: no crate knows which parts of a libpq
/// URL are secrets, nor which echoes of them are safe to leave.
pub(super) fn mask(url: &url::Url) -> Masked {
    let mut secrets = Vec::new();
    let mut shown = url.clone();
    if let Some(password) = url.password() {
        secrets.push(password.to_owned());
        let decoded = percent_encoding::percent_decode_str(password).decode_utf8_lossy();
        if decoded != password {
            secrets.push(decoded.into_owned());
        }
        let _ = shown.set_password(Some("***"));
    }
    // `password=` in the query string is accepted by libpq-style URLs too.
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.iter().any(|(k, _)| k == "password") {
        let mut q = shown.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            if k == "password" {
                secrets.push(v.clone());
                q.append_pair(k, "***");
            } else {
                q.append_pair(k, v);
            }
        }
    }
    // A password that is also the user name, host or database name is
    // shown there anyway: masking its quoted echoes would only hide
    // those (`role "app" does not exist`), while the URL's password
    // component is masked all the same.
    let shown_parts = [
        url.username(),
        url.host_str().unwrap_or(""),
        url.path().trim_start_matches('/'),
    ];
    secrets.retain(|s| !s.is_empty() && !shown_parts.contains(&s.as_str()));
    Masked {
        shown: shown.to_string(),
        secrets,
    }
}

#[cfg(test)]
mod tests {
    use super::{Masked, mask};
    use crate::model::redact::mask_passwords;
    use crate::target::{Origin, Target};

    /// [`mask`] of `url`.
    fn masked(url: &str) -> Masked {
        match url::Url::parse(url) {
            Ok(parsed) => mask(&parsed),
            Err(e) => panic!("{url}: {e}"),
        }
    }

    fn secrets(url: &str) -> Vec<String> {
        masked(url).secrets
    }

    /// `message` as the CLI prints it for a run against `url`.
    fn printed(url: &str, message: &str) -> String {
        let secrets = secrets(url);
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        mask_passwords(message, &secrets)
    }

    #[test]
    fn secrets_are_the_passwords_not_shown_elsewhere() {
        let secrets = |url: &str| -> Vec<String> {
            match Target::parse(url, Origin::Flag) {
                Ok(target) => target.secrets().into_iter().map(str::to_owned).collect(),
                Err(e) => panic!("{url}: {e}"),
            }
        };
        assert_eq!(secrets("postgres://u:s@h/x"), vec!["s"]);
        assert_eq!(secrets("postgres://u:p%40ss@h/x"), vec!["p%40ss", "p@ss"]);
        assert_eq!(secrets("postgres://h/x?password=pw"), vec!["pw"]);
        // Equal to the user name, host or database name: shown there anyway.
        assert!(secrets("postgres://app:app@h/x").is_empty());
        assert!(secrets("postgres://u:db.internal@db.internal/x").is_empty());
        assert!(secrets("postgres://u:kvshvl@h/kvshvl").is_empty());
        let masked = Target::parse("postgres://app:app@h/app", Origin::Flag)
            .map(|t| t.to_string())
            .unwrap_or_default();
        assert_eq!(masked, "postgres://app:***@h/app");
    }

    #[test]
    fn short_passwords_are_masked_in_the_url_and_kept_as_secrets() {
        for password in ["a", "ab", "abc"] {
            let url = format!("postgres://user:{password}@db.example/app");
            assert_eq!(
                masked(&url),
                Masked {
                    shown: "postgres://user:***@db.example/app".to_owned(),
                    secrets: vec![password.to_owned()],
                },
                "{password}"
            );
        }
    }

    #[test]
    fn a_short_password_masks_only_where_it_stands_whole() {
        let url = "postgres://user:a@db.example/app";
        // The letter elsewhere in the message stays; the quoted password
        // and the URL's password go.
        assert_eq!(
            printed(
                url,
                "cannot connect to postgres://user:a@db.example/app: password \"a\" was refused \
                 at a database"
            ),
            "cannot connect to postgres://user:***@db.example/app: password \"***\" was \
             refused at a database"
        );
    }

    #[test]
    fn url_encoded_passwords_are_secrets_both_ways() {
        assert_eq!(
            masked("postgres://u:p%40ss%3Aw%2Fd@h/x"),
            Masked {
                shown: "postgres://u:***@h/x".to_owned(),
                secrets: vec!["p%40ss%3Aw%2Fd".to_owned(), "p@ss:w/d".to_owned()],
            }
        );
        assert_eq!(
            secrets("postgres://u:caf%C3%A9@h/x"),
            vec!["caf%C3%A9", "café"]
        );
        // A query password is decoded already.
        assert_eq!(
            masked("postgres://u@h/x?password=p%26w"),
            Masked {
                shown: "postgres://u@h/x?password=***".to_owned(),
                secrets: vec!["p&w".to_owned()],
            }
        );
        assert_eq!(
            printed(
                "postgres://u:p%40ss@h/x",
                "password for 'p@ss' and 'p%40ss' refused"
            ),
            "password for '***' and '***' refused"
        );
    }

    #[test]
    fn a_password_equal_to_a_shown_part_is_masked_only_in_the_url() {
        for (url, shown) in [
            ("postgres://app:app@h/x", "postgres://app:***@h/x"),
            ("postgres://u:h@h/x", "postgres://u:***@h/x"),
            ("postgres://u:x@h/x", "postgres://u:***@h/x"),
            (
                "postgres://u@h/x?password=u",
                "postgres://u@h/x?password=***",
            ),
        ] {
            assert_eq!(
                masked(url),
                Masked {
                    shown: shown.to_owned(),
                    secrets: Vec::new(),
                },
                "{url}"
            );
        }
        // The role named in the server's words stays readable.
        assert_eq!(
            printed(
                "postgres://app:app@h/x",
                "cannot connect to postgres://app:app@h/x: role \"app\" does not exist"
            ),
            "cannot connect to postgres://app:***@h/x: role \"app\" does not exist"
        );
    }

    #[test]
    fn query_passwords_are_masked_and_other_parameters_kept() {
        assert_eq!(
            masked("postgres://u:one@h/x?sslmode=require&password=two&password=three"),
            Masked {
                shown: "postgres://u:***@h/x?sslmode=require&password=***&password=***".to_owned(),
                secrets: vec!["one".to_owned(), "two".to_owned(), "three".to_owned()],
            }
        );
        // Masking a query password writes the query again, as a form would.
        assert_eq!(
            masked("postgres://h/x?application_name=a%20b&password=pw").shown,
            "postgres://h/x?application_name=a+b&password=***"
        );
        // An empty one is nothing to mask in messages.
        assert_eq!(
            masked("postgres://h/x?password="),
            Masked {
                shown: "postgres://h/x?password=***".to_owned(),
                secrets: Vec::new(),
            }
        );
        // Only that parameter: a lookalike name is not a password.
        assert_eq!(
            masked("postgres://h/x?sslpassword=k"),
            Masked {
                shown: "postgres://h/x?sslpassword=k".to_owned(),
                secrets: Vec::new(),
            }
        );
    }

    #[test]
    fn a_url_without_a_password_is_shown_as_given() {
        for url in [
            "postgres://u@h:5433/x?sslmode=require",
            "postgres:///x?host=/tmp",
            "postgres://u:@h/x",
            "sqlite://app.sqlite?mode=rwc",
            "sqlite::memory:",
        ] {
            let shown = match url::Url::parse(url) {
                Ok(parsed) => parsed.to_string(),
                Err(e) => panic!("{url}: {e}"),
            };
            assert_eq!(
                masked(url),
                Masked {
                    shown,
                    secrets: Vec::new(),
                },
                "{url}"
            );
        }
    }

    #[test]
    fn several_urls_in_one_message_each_lose_their_password() {
        assert_eq!(
            printed(
                "postgres://u:s3cret@h/x",
                "copy from postgres://u:s3cret@h/x to postgres://v:other@k/y failed: \"s3cret\""
            ),
            "copy from postgres://u:***@h/x to postgres://v:***@k/y failed: \"***\""
        );
    }

    #[test]
    fn a_message_without_a_url_loses_only_the_quoted_secrets() {
        let url = "postgres://u:s3cret@h/x";
        assert_eq!(
            printed(url, "relation \"users\" does not exist"),
            "relation \"users\" does not exist"
        );
        assert_eq!(
            printed(url, "password 's3cret' rejected; s3cret-like names stay"),
            "password '***' rejected; s3cret-like names stay"
        );
        assert_eq!(printed(url, ""), "");
    }

    #[test]
    fn a_target_shows_only_its_masked_url() {
        let target = match Target::parse("postgres://u:pw@h/x?password=q", Origin::Flag) {
            Ok(target) => target,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(target.to_string(), "postgres://u:***@h/x?password=***");
        assert_eq!(
            format!("{target:?}"),
            "Target { url: \"postgres://u:***@h/x?password=***\", origin: Flag }"
        );
        assert_eq!(target.secrets(), vec!["pw", "q"]);
    }
}

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
/// parameter.
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
    use crate::target::{Origin, Target};

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
}

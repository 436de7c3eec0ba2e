//! Where the URL is found and how it is parsed.

use super::{Origin, Target};

#[test]
fn sqlite_is_local() {
    let target = Target::parse("sqlite://x.db?mode=rwc", Origin::Flag).ok();
    assert_eq!(target.and_then(|t| t.remote_host()), None);
}

//! The CA file a PostgreSQL URL names for TLS (`sslrootcert`), checked
//! before connecting so a bad one is an error naming the file.

use crate::Error;

/// The most of an `sslrootcert` file that is read.
const MAX_ROOT_CERT_BYTES: u64 = 16 * 1024 * 1024;

/// The CA file of `sslrootcert` must hold at least one PEM certificate: the
/// driver reports a missing file without its name, and reads a file with
/// none as no certificate at all.
pub(super) fn check_root_cert(path: &std::path::Path) -> Result<(), Error> {
    use std::io::Read;
    let error = |source: std::io::Error| Error::Io {
        action: "cannot use the sslrootcert file",
        path: path.display().to_string(),
        source,
    };
    // A named pipe would block the open until something writes to it, and
    // a device has no end: only a regular file is read.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        return Err(error(std::io::Error::other(
            "not a regular file (a directory, named pipe, socket or device)",
        )));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_ROOT_CERT_BYTES).read_to_string(&mut text))
        .map_err(error)?;
    if pem_certificates(&text) == 0 {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        )));
    }
    Ok(())
}

/// How many well-formed PEM certificate blocks `text` holds.
fn pem_certificates(text: &str) -> usize {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut count = 0;
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(end) = after.find(END) else {
            break;
        };
        let body: String = after[..end].split_whitespace().collect();
        let base64 = !body.is_empty()
            && body.len().is_multiple_of(4)
            && body
                .trim_end_matches('=')
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/');
        if base64 {
            count += 1;
        }
        rest = &after[end + END.len()..];
    }
    count
}

#[cfg(test)]
mod tests {
    use super::pem_certificates;

    #[test]
    fn a_pem_file_counts_its_well_formed_certificates() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_certificates(cert), 1);
        assert_eq!(pem_certificates(&format!("junk\n{cert}{cert}")), 2);
        assert_eq!(pem_certificates("not a certificate at all"), 0);
        assert_eq!(
            pem_certificates("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"),
            0
        );
        assert_eq!(pem_certificates("-----BEGIN CERTIFICATE-----\nMIIB"), 0);
        assert_eq!(
            pem_certificates("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"),
            0
        );
    }

    #[test]
    fn pem_bodies_must_be_padded_base64() {
        let block =
            |body: &str| format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----");
        for body in ["MIIB", "MII=", "MI==", "ab+/\r\ncd12", "  MIIB  \n\tAAAA  "] {
            assert_eq!(pem_certificates(&block(body)), 1, "{body:?}");
        }
        for body in ["", "MII", "MIIBA", "MI-B", "MI_B", "MIIB AA"] {
            assert_eq!(pem_certificates(&block(body)), 0, "{body:?}");
        }
        // A malformed block does not hide a good one after it.
        assert_eq!(
            pem_certificates(&format!("{}\n{}", block("!!"), block("MIIB"))),
            1
        );
    }
}

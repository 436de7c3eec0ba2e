//! The CA file a PostgreSQL URL names for TLS (`sslrootcert`), checked
//! before connecting so a bad one is an error naming the file.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::{self, PemObject};

use crate::Error;

/// The most of an `sslrootcert` file that is read.
const MAX_ROOT_CERT_BYTES: u64 = 16 * 1024 * 1024;

/// The CA file of `sslrootcert` must hold at least one PEM certificate and
/// no malformed section: the driver reports a missing file without its
/// name, a malformed section without saying what is wrong, and reads a file
/// with no certificate as no certificate at all.
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
    let file = std::fs::File::open(path).map_err(error)?;
    if pem_certificates(file.take(MAX_ROOT_CERT_BYTES)).map_err(error)? == 0 {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        )));
    }
    Ok(())
}

/// How many certificates the PEM text of `reader` holds, read as the driver
/// reads it (with the same reader): a malformed section, which makes the
/// driver refuse the whole file, is an error saying what is wrong.
fn pem_certificates(reader: impl std::io::Read) -> Result<usize, std::io::Error> {
    let mut certificates = 0;
    for certificate in CertificateDer::pem_reader_iter(reader) {
        match certificate {
            // The reader takes an empty body; the driver then fails on it.
            Ok(der) if der.is_empty() => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "it is not a valid PEM file: a CERTIFICATE section is empty",
                ));
            }
            Ok(_) => certificates += 1,
            Err(pem::Error::Io(e)) => return Err(e),
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("it is not a valid PEM file: {}", pem_error(&e)),
                ));
            }
        }
    }
    Ok(certificates)
}

/// What is wrong in a PEM file, in words: the reader's own messages show
/// lines as lists of byte values.
fn pem_error(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a {} section has no -----END line",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { .. } => "a -----BEGIN line is malformed".to_owned(),
        pem::Error::Base64Decode(_) => "a section's body is not base64".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::pem_certificates;

    /// [`pem_certificates`] of `text`, or its error's message.
    fn counted(text: &str) -> Result<usize, String> {
        pem_certificates(text.as_bytes()).map_err(|e| e.to_string())
    }

    fn block(body: &str) -> String {
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
    }

    fn malformed(why: &str) -> Result<usize, String> {
        Err(format!("it is not a valid PEM file: {why}"))
    }

    #[test]
    fn a_pem_file_counts_its_certificates() {
        let cert = block("MIIB\nAAAA");
        assert_eq!(counted(&cert), Ok(1));
        assert_eq!(counted(&format!("junk\n{cert}{cert}")), Ok(2));
        assert_eq!(counted("not a certificate at all"), Ok(0));
        assert_eq!(counted(""), Ok(0));
        // Other sections and bytes outside sections are passed over.
        assert_eq!(
            counted("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"),
            Ok(0)
        );
        assert_eq!(counted(&format!("\u{ff}\u{fe}\0binary\n{cert}")), Ok(1));
        // A marker must start its line.
        assert_eq!(counted(&format!("x {cert}")), Ok(0));
    }

    #[test]
    fn pem_bodies_are_base64_as_the_driver_reads_them() {
        for body in [
            "MIIB",
            "MII=",
            "MI==",
            "MII",
            "ab+/\r\ncd12",
            "  MIIB  \n\tAAAA  ",
            "MIIB AA",
        ] {
            assert_eq!(counted(&block(body)), Ok(1), "{body:?}");
        }
        for body in ["!!", "MIIBA", "MI-B", "MI_B"] {
            assert_eq!(
                counted(&block(body)),
                malformed("a section's body is not base64"),
                "{body:?}"
            );
        }
        assert_eq!(
            counted(&block("")),
            malformed("a CERTIFICATE section is empty")
        );
    }

    #[test]
    fn one_malformed_section_fails_the_file_as_it_fails_the_driver() {
        assert_eq!(
            counted(&format!("{}{}", block("!!"), block("MIIB"))),
            malformed("a section's body is not base64")
        );
        assert_eq!(
            counted(&format!(
                "{}{}",
                block("MIIB"),
                "-----BEGIN CERTIFICATE-----\nMIIB"
            )),
            malformed("a CERTIFICATE section has no -----END line")
        );
        assert_eq!(
            counted("-----BEGIN CERTIFICATE----\nMIIB\n-----END CERTIFICATE-----\n"),
            malformed("a -----BEGIN line is malformed")
        );
    }
}

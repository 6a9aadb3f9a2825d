//! What the simulator reads from an uploaded certificate: its thumbprints and its validity,
//! which become the key credential's start and end dates (`ENT:certificate-credentials.md`,
//! "Once the certificate is uploaded, the thumbprint, start date, and expiration values are
//! displayed").

use aws_lc_rs::digest;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// SHA-1 of the DER certificate (the `x5t` thumbprint).
pub fn sha1(der: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref().to_vec()
}

/// SHA-256 of the DER certificate (the `x5t#S256` thumbprint).
pub fn sha256(der: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, der).as_ref().to_vec()
}

/// Upper-case hex, how AADSTS700027 texts print a thumbprint.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// `notBefore` and `notAfter` of an X.509 certificate (RFC 5280 section 4.1: Certificate ::=
/// SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
/// issuer, validity SEQUENCE { notBefore, notAfter }, ... }, ... }).
pub fn validity(der: &[u8]) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let (certificate, _) = expect(der, SEQUENCE)?;
    let (mut tbs, _) = expect(certificate, SEQUENCE)?;
    if tbs.first() == Some(&VERSION) {
        tbs = element(tbs)?.2;
    }
    for _field in ["serialNumber", "signature", "issuer"] {
        tbs = element(tbs)?.2;
    }
    let (validity, _) = expect(tbs, SEQUENCE)?;
    let (tag, not_before, rest) = element(validity)?;
    let start = time_value(tag, not_before)?;
    let (tag, not_after, _) = element(rest)?;
    Some((start, time_value(tag, not_after)?))
}

const SEQUENCE: u8 = 0x30;
const VERSION: u8 = 0xA0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// One DER element: (tag, contents, what follows). Definite lengths only, as DER requires.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, contents, rest) = element(input)?;
    (found == tag).then_some((contents, rest))
}

/// UTCTime `YYMMDDHHMMSSZ` (years 50-99 are 19xx) or GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn time_value(tag: u8, bytes: &[u8]) -> Option<OffsetDateTime> {
    let text = std::str::from_utf8(bytes).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        UTC_TIME if text.len() == 12 => {
            let yy: i32 = text[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        GENERALIZED_TIME if text.len() == 14 => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let num = |i: usize| rest.get(i..i + 2)?.parse::<u8>().ok();
    let date = Date::from_calendar_date(year, Month::try_from(num(0)?).ok()?, num(2)?).ok()?;
    let time = Time::from_hms(num(4)?, num(6)?, num(8)?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};
    use time::macros::datetime;

    fn cert(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Vec<u8> {
        let mut params = CertificateParams::new(vec!["app.example".into()]).unwrap();
        params.not_before = not_before;
        params.not_after = not_after;
        params.self_signed(&KeyPair::generate().unwrap()).unwrap().der().to_vec()
    }

    #[test]
    fn validity_reads_utc_and_generalized_times() {
        let (a, b) = (datetime!(1999-12-31 23:59:58 UTC), datetime!(2049-06-01 08:30:00 UTC));
        assert_eq!(validity(&cert(a, b)), Some((a, b)));
        let (a, b) = (datetime!(2025-01-02 03:04:05 UTC), datetime!(4096-01-01 00:00:00 UTC));
        assert_eq!(validity(&cert(a, b)), Some((a, b)));
    }

    #[test]
    fn garbage_has_no_validity() {
        assert_eq!(validity(b"not a certificate"), None);
        assert_eq!(validity(&[0x30, 0x82, 0xff]), None);
    }

    #[test]
    fn thumbprints_match_the_documented_encoding() {
        // ENT:certificate-credentials.md (older version): hex
        // 84E05C1D98BCE3A5421D225B140B36E86A3D5534 is x5t hOBcHZi846VCHSJbFAs26Go9VTQ.
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let raw = URL_SAFE_NO_PAD.decode("hOBcHZi846VCHSJbFAs26Go9VTQ").unwrap();
        assert_eq!(hex(&raw), "84E05C1D98BCE3A5421D225B140B36E86A3D5534");
        assert_eq!(sha1(b"abc").len(), 20);
        assert_eq!(sha256(b"abc").len(), 32);
    }
}

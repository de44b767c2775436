//! Small helpers: timestamps, random tokens, byte sizes.

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `t` as an RFC 3339 UTC timestamp (`2025-01-31T12:00:00.123456Z`), the
/// spec's `date-time` format.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    // Microseconds, like most JSON APIs; formatting a UTC time cannot fail.
    let t = t.replace_nanosecond(t.microsecond() * 1000).unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// S3's `X-Amz-Date` form of `t`: `yyyymmddThhmmssZ`.
pub(crate) fn amz_date(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "19700101T000000Z".to_owned())
}

/// Parses an `X-Amz-Date` value.
pub(crate) fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let t = PrimitiveDateTime::parse(
        s,
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .ok()?;
    Some(t.assume_utc().into())
}

/// 32 random bytes, URL-safe base64 encoded, after `prefix`. The bytes come
/// from two v4 UUIDs (the OS random source), which is plenty for test tokens.
pub(crate) fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new asset or account id (a v4 UUID, as the spec's `format: uuid` asks).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whole seconds in `d`, rounded up (for `Retry-After`).
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Escapes text for an XML element.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML.
pub(crate) fn html_escape(s: &str) -> String {
    xml_escape(s)
}

/// Parses a byte size: plain bytes (`1048576`) or a number with a unit:
/// `B`, `KB`/`MB`/`GB`/`TB` (powers of 1000), `KiB`/`MiB`/`GiB`/`TiB` or
/// `K`/`M`/`G`/`T` (powers of 1024). Units are case-insensitive and may be
/// separated by a space.
pub fn parse_byte_size(input: &str) -> Result<u64, String> {
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() {
        return Err(format!("{input:?} is not a byte size (e.g. 32MiB, 65536)"));
    }
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{input:?}: number too large"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        other => return Err(format!("{input:?}: unknown unit {other:?}")),
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{input:?}: too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips_to_the_second() {
        let now = SystemTime::now();
        let s = amz_date(now);
        assert_eq!(s.len(), 16, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[8] == b'T', "{s}");
        let back = parse_amz_date(&s).expect("parses");
        let diff = now.duration_since(back).expect("not in the future");
        assert!(diff < Duration::from_secs(1), "{diff:?}");
        assert_eq!(parse_amz_date("2025-01-01"), None);
    }

    #[test]
    fn rfc3339_is_utc_with_micros() {
        let s = rfc3339(SystemTime::UNIX_EPOCH + Duration::from_nanos(1_500_000_123));
        assert_eq!(s, "1970-01-01T00:00:01.5Z");
        assert!(OffsetDateTime::parse(&rfc3339(SystemTime::now()), &Rfc3339).is_ok());
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("65536"), Ok(65536));
        assert_eq!(parse_byte_size("32MiB"), Ok(32 << 20));
        assert_eq!(parse_byte_size("32 mib"), Ok(32 << 20));
        assert_eq!(parse_byte_size("64K"), Ok(64 << 10));
        assert_eq!(parse_byte_size("5MB"), Ok(5_000_000));
        assert_eq!(parse_byte_size("1GiB"), Ok(1 << 30));
        assert!(parse_byte_size("MiB").is_err());
        assert!(parse_byte_size("12 parsecs").is_err());
        assert!(parse_byte_size("99999999999999999999").is_err());
    }

    #[test]
    fn tokens_are_distinct() {
        let a = random_token("at_");
        assert!(a.starts_with("at_") && a.len() == 3 + 43, "{a}");
        assert_ne!(a, random_token("at_"));
    }

    #[test]
    fn escapes() {
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(ceil_secs(Duration::from_millis(1001)), 2);
        assert_eq!(ceil_secs(Duration::from_secs(3)), 3);
    }
}

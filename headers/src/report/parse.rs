use serde_json::{Map, Value};

/// Longest string kept from a report field (characters beyond are dropped).
pub const MAX_FIELD_CHARS: usize = 1024;

/// Most reports taken from one body (the Reporting API batches; the rest are dropped).
pub const MAX_REPORTS_PER_BODY: usize = 100;

/// The body format, from `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportFormat {
    /// `application/reports+json`: a JSON array of Reporting API reports.
    Reports,
    /// `application/csp-report`: one legacy `{"csp-report": {…}}` object (`report-uri`).
    LegacyCsp,
    /// `application/json`: either shape, detected from the JSON.
    Json,
}

impl ReportFormat {
    /// Recognises the media type of a `Content-Type` value (parameters ignored).
    #[must_use]
    pub fn from_content_type(value: &[u8]) -> Option<Self> {
        let media = value.split(|&b| b == b';').next().unwrap_or_default();
        let media = media.trim_ascii();
        if media.eq_ignore_ascii_case(b"application/reports+json") {
            Some(Self::Reports)
        } else if media.eq_ignore_ascii_case(b"application/csp-report") {
            Some(Self::LegacyCsp)
        } else if media.eq_ignore_ascii_case(b"application/json") {
            Some(Self::Json)
        } else {
            None
        }
    }
}

/// One received report, normalised across the Reporting API and legacy `report-uri` shapes.
///
/// Every string is attacker-controllable (any page can post to the collector): treat it as
/// untrusted text. Strings are clipped to [`MAX_FIELD_CHARS`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// `csp-violation`, `permissions-policy-violation`, `deprecation`, … (`csp-violation` for
    /// legacy reports).
    pub report_type: String,
    /// The document where it happened.
    pub document_url: Option<String>,
    /// What was blocked (URL, or `inline`, `eval`…).
    pub blocked_url: Option<String>,
    /// The directive that blocked it.
    pub effective_directive: Option<String>,
    /// `enforce` or `report`.
    pub disposition: Option<String>,
    /// Script where it happened.
    pub source_file: Option<String>,
    /// Line in `source_file`.
    pub line_number: Option<u64>,
    /// Column in `source_file`.
    pub column_number: Option<u64>,
    /// First characters of the blocked inline code (with `'report-sample'`).
    pub sample: Option<String>,
    /// HTTP status of the document.
    pub status_code: Option<u64>,
    /// The reporting browser's user agent (Reporting API only).
    pub user_agent: Option<String>,
    /// Whether it came in the legacy `application/csp-report` shape.
    pub legacy: bool,
}

/// Why a body was not accepted as reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    NotJson,
    WrongShape,
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_FIELD_CHARS) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

fn text(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match obj.get(*k) {
        Some(Value::String(s)) => Some(clip(s)),
        _ => None,
    })
}

fn number(obj: &Map<String, Value>, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| match obj.get(*k) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

fn from_reporting_api(item: &Map<String, Value>) -> Report {
    let empty = Map::new();
    let body = match item.get("body") {
        Some(Value::Object(b)) => b,
        _ => &empty,
    };
    Report {
        report_type: text(item, &["type"]).unwrap_or_default(),
        document_url: text(body, &["documentURL"]).or_else(|| text(item, &["url"])),
        blocked_url: text(body, &["blockedURL"]),
        effective_directive: text(body, &["effectiveDirective"]),
        disposition: text(body, &["disposition"]),
        source_file: text(body, &["sourceFile"]),
        line_number: number(body, &["lineNumber"]),
        column_number: number(body, &["columnNumber"]),
        sample: text(body, &["sample"]),
        status_code: number(body, &["statusCode"]),
        user_agent: text(item, &["user_agent"]),
        legacy: false,
    }
}

fn from_legacy(body: &Map<String, Value>) -> Report {
    Report {
        report_type: "csp-violation".to_owned(),
        document_url: text(body, &["document-uri"]),
        blocked_url: text(body, &["blocked-uri"]),
        effective_directive: text(body, &["effective-directive", "violated-directive"]),
        disposition: text(body, &["disposition"]),
        source_file: text(body, &["source-file"]),
        line_number: number(body, &["line-number"]),
        column_number: number(body, &["column-number"]),
        sample: text(body, &["script-sample"]),
        status_code: number(body, &["status-code"]),
        user_agent: None,
        legacy: true,
    }
}

/// Parses a body. Returns the reports (at most [`MAX_REPORTS_PER_BODY`]) and how many were
/// dropped beyond that.
pub(crate) fn parse(format: ReportFormat, body: &[u8]) -> Result<(Vec<Report>, usize), ParseError> {
    // serde_json limits nesting to 128 levels, so hostile depth is an error, not a stack overflow.
    let value: Value = serde_json::from_slice(body).map_err(|_| ParseError::NotJson)?;
    match (format, value) {
        (ReportFormat::Reports | ReportFormat::Json, Value::Array(items)) => {
            let total = items.len();
            let reports: Vec<Report> = items
                .iter()
                .filter_map(|i| match i {
                    Value::Object(o) => Some(from_reporting_api(o)),
                    _ => None,
                })
                .take(MAX_REPORTS_PER_BODY)
                .collect();
            if reports.is_empty() && total > 0 {
                return Err(ParseError::WrongShape);
            }
            Ok((reports, total.saturating_sub(MAX_REPORTS_PER_BODY)))
        }
        (ReportFormat::LegacyCsp | ReportFormat::Json, Value::Object(o)) => {
            match o.get("csp-report") {
                Some(Value::Object(body)) => Ok((vec![from_legacy(body)], 0)),
                _ => Err(ParseError::WrongShape),
            }
        }
        _ => Err(ParseError::WrongShape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporting_api_shape() {
        let body = br#"[{"type":"csp-violation","age":10,"url":"https://a.example/p",
            "user_agent":"UA","body":{"blockedURL":"inline","disposition":"enforce",
            "documentURL":"https://a.example/p","effectiveDirective":"script-src-elem",
            "lineNumber":3,"columnNumber":"7","sample":"alert(1)","statusCode":200}}]"#;
        let (r, dropped) = parse(ReportFormat::Reports, body).unwrap();
        assert_eq!(dropped, 0);
        assert_eq!(r[0].report_type, "csp-violation");
        assert_eq!(r[0].blocked_url.as_deref(), Some("inline"));
        assert_eq!(r[0].line_number, Some(3));
        assert_eq!(r[0].column_number, Some(7));
        assert_eq!(r[0].user_agent.as_deref(), Some("UA"));
    }

    #[test]
    fn legacy_shape() {
        let body = br#"{"csp-report":{"document-uri":"https://a.example/","violated-directive":"script-src",
            "blocked-uri":"https://evil.example/x.js","line-number":1}}"#;
        let (r, _) = parse(ReportFormat::LegacyCsp, body).unwrap();
        assert!(r[0].legacy);
        assert_eq!(r[0].effective_directive.as_deref(), Some("script-src"));
        assert_eq!(parse(ReportFormat::Json, body).unwrap().0, r);
    }

    #[test]
    fn bad_bodies() {
        assert_eq!(
            parse(ReportFormat::Reports, b"{").unwrap_err(),
            ParseError::NotJson
        );
        assert_eq!(
            parse(ReportFormat::Reports, b"{}").unwrap_err(),
            ParseError::WrongShape
        );
        assert_eq!(
            parse(ReportFormat::LegacyCsp, b"[]").unwrap_err(),
            ParseError::WrongShape
        );
        assert_eq!(
            parse(ReportFormat::Reports, b"[1,2]").unwrap_err(),
            ParseError::WrongShape
        );
        let deep = "[".repeat(10_000);
        assert_eq!(
            parse(ReportFormat::Reports, deep.as_bytes()).unwrap_err(),
            ParseError::NotJson
        );
    }

    #[test]
    fn limits() {
        let long = "x".repeat(MAX_FIELD_CHARS * 2);
        let body = format!(r#"{{"csp-report":{{"blocked-uri":"{long}"}}}}"#);
        let (r, _) = parse(ReportFormat::LegacyCsp, body.as_bytes()).unwrap();
        assert_eq!(r[0].blocked_url.as_ref().unwrap().len(), MAX_FIELD_CHARS);
        let many = format!(
            "[{}]",
            vec![r#"{"type":"x"}"#; MAX_REPORTS_PER_BODY + 5].join(",")
        );
        let (r, dropped) = parse(ReportFormat::Reports, many.as_bytes()).unwrap();
        assert_eq!(r.len(), MAX_REPORTS_PER_BODY);
        assert_eq!(dropped, 5);
        assert!(
            ReportFormat::from_content_type(b"Application/Reports+JSON; charset=utf-8").is_some()
        );
        assert!(ReportFormat::from_content_type(b"text/plain").is_none());
    }
}

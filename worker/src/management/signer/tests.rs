//! The lean signer against `aws-sigv4`'s own full signer (the one the SDK calls), for paths
//! and session tokens that exercise encoding and normalization.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_http::label::{EncodingStrategy, fmt_string};

use super::*;

const REGION: &str = "ap-northeast-1";

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// `Authorization` and `x-amz-date` from aws-sigv4's `sign`, with the SDK's settings.
fn reference(
    credentials: &Credentials,
    host: &str,
    path: &str,
    body: &[u8],
    time: SystemTime,
) -> (String, String) {
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("execute-api")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let length = body.len().to_string();
    let headers = [
        ("content-type", CONTENT_TYPE),
        ("content-length", length.as_str()),
    ];
    let request = SignableRequest::new(
        "POST",
        format!("http://{host}{path}"),
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let header = |name: &str| {
        instructions
            .headers()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
            .unwrap()
    };
    (header("authorization"), header("x-amz-date"))
}

fn lean(
    credentials: &Credentials,
    host: &str,
    path: &str,
    body: &[u8],
    time: SystemTime,
) -> (String, String) {
    let identity = SigningIdentity::new(credentials.clone()).unwrap();
    let signature = Signer::new(REGION).sign(
        &identity,
        PostToSign {
            host,
            path,
            content_length: body.len(),
            body_sha256: &sha256_hex(body),
        },
        time,
    );
    (
        signature.authorization.to_str().unwrap().to_owned(),
        signature.amz_date.to_str().unwrap().to_owned(),
    )
}

#[test]
fn signatures_equal_aws_sigv4s_for_awkward_connection_ids() {
    let with_token = Credentials::new(
        "AKIDEXAMPLE",
        "secret/key+",
        Some("  token  with  spaces ".into()),
        None,
        "test",
    );
    let without_token = Credentials::new("AKIDEXAMPLE", "secret/key+", None, None, "test");
    let ids = [
        "abc=",
        "L0SM9cOFvHcCIhw=",
        "a b",
        "a/b",
        "..",
        ".",
        "a.b",
        "100%",
        "é+~*",
        "@",
        "x//y",
    ];
    for stage in ["/local", "", "/a.b/stage", "/my%20stage"] {
        for id in ids {
            let path = format!(
                "{stage}/@connections/{}",
                fmt_string(id, EncodingStrategy::Default)
            );
            for credentials in [&with_token, &without_token] {
                for host in [
                    "127.0.0.1:4000",
                    "abc.execute-api.ap-northeast-1.amazonaws.com",
                ] {
                    let body = br#"{"action":"send_message"}"#;
                    let time = at(1_764_201_599);
                    assert_eq!(
                        lean(credentials, host, &path, body, time),
                        reference(credentials, host, &path, body, time),
                        "path {path}, host {host}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_days_key_follows_the_utc_date() {
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let identity = SigningIdentity::new(credentials.clone()).unwrap();
    let signer = Signer::new(REGION);
    // One identity over midnight: the second signature must use the new day's key.
    for time in [at(1_764_201_599), at(1_764_201_600), at(1_764_201_601)] {
        let post = PostToSign {
            host: "h",
            path: "/s/@connections/x",
            content_length: 0,
            body_sha256: &sha256_hex(b""),
        };
        let signature = signer.sign(&identity, post, time);
        let (authorization, _) = reference(&credentials, "h", "/s/@connections/x", b"", time);
        assert_eq!(signature.authorization.to_str().unwrap(), authorization);
    }
}

#[test]
fn normalization_keeps_plain_paths_and_removes_dot_segments() {
    assert_eq!(
        normalize_path("/local/@connections/abc%3D"),
        "/local/@connections/abc%3D"
    );
    assert_eq!(normalize_path(""), "/");
    assert_eq!(normalize_path("/a/./b/../c"), "/a/c");
    assert_eq!(normalize_path("/a/.."), "/");
    assert_eq!(normalize_path("/a//b/"), "/a/b/");
}

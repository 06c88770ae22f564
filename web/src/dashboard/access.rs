//! Who may see `/admin`: `ADMIN_API_KEY` as a bearer token, or as the password of HTTP basic
//! auth (any user name) so that a browser asks for it. A form POST authenticated by the
//! browser (basic auth is sent automatically) must also come from this very origin, so a
//! foreign page cannot make an operator's browser retry or delete jobs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::Request;
use poem::http::header;
use shared::config::Secret;

use super::failure::PageError;

/// How the request proved it holds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Bearer,
    Basic,
}

pub fn authorize(request: &Request, key: Option<&Secret>) -> Result<Credential, PageError> {
    let key = key.ok_or(PageError::Disabled)?;
    let Some(authorization) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return Err(PageError::Unauthorized);
    };
    if let Some(token) = authorization.strip_prefix("Bearer ") {
        return key
            .matches(token)
            .then_some(Credential::Bearer)
            .ok_or(PageError::Unauthorized);
    }
    let password = authorization
        .strip_prefix("Basic ")
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(_, password)| password.to_owned())
        });
    match password {
        Some(password) if key.matches(&password) => Ok(Credential::Basic),
        _ => Err(PageError::Unauthorized),
    }
}

/// A state-changing request: authorized, and, when the browser sent the credential, from a
/// page of this origin (its `Origin` names the host it was sent to).
pub fn authorize_change(request: &Request, key: Option<&Secret>) -> Result<(), PageError> {
    if authorize(request, key)? == Credential::Bearer {
        // A browser never attaches a bearer token by itself: no forgery to fear.
        return Ok(());
    }
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let same_origin = match (header(header::ORIGIN), header(header::HOST)) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, origin_host)| origin_host.eq_ignore_ascii_case(host)),
        _ => false,
    };
    if same_origin {
        Ok(())
    } else {
        Err(PageError::CrossSite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder();
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.finish()
    }

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
    }

    #[test]
    fn the_key_is_accepted_as_bearer_or_basic_password() {
        let key = Secret::new("k3y".into());
        let bearer = request(&[("authorization", "Bearer k3y")]);
        assert_eq!(authorize(&bearer, Some(&key)), Ok(Credential::Bearer));
        let basic_ok = request(&[("authorization", &basic("anyone", "k3y"))]);
        assert_eq!(authorize(&basic_ok, Some(&key)), Ok(Credential::Basic));
        for wrong in [
            request(&[]),
            request(&[("authorization", "Bearer nope")]),
            request(&[("authorization", &basic("k3y", "nope"))]),
            request(&[("authorization", "Basic !!!")]),
        ] {
            assert_eq!(authorize(&wrong, Some(&key)), Err(PageError::Unauthorized));
        }
        assert_eq!(authorize(&bearer, None), Err(PageError::Disabled));
    }

    #[test]
    fn a_browser_change_must_come_from_this_origin() {
        let key = Secret::new("k3y".into());
        let auth = basic("admin", "k3y");
        let same = request(&[
            ("authorization", &auth),
            ("host", "admin.example:3000"),
            ("origin", "http://admin.example:3000"),
        ]);
        assert_eq!(authorize_change(&same, Some(&key)), Ok(()));
        for origin in [None, Some("http://evil.example"), Some("null")] {
            let mut headers = vec![
                ("authorization", auth.as_str()),
                ("host", "admin.example:3000"),
            ];
            headers.extend(origin.map(|origin| ("origin", origin)));
            assert_eq!(
                authorize_change(&request(&headers), Some(&key)),
                Err(PageError::CrossSite),
                "{origin:?}"
            );
        }
        let scripted = request(&[("authorization", "Bearer k3y")]);
        assert_eq!(authorize_change(&scripted, Some(&key)), Ok(()));
    }
}

//! A JSON request body, read whatever its `Content-Type` says: the admin API took
//! `curl -d '{..}'` (form-encoded by curl) before it was described by OpenAPI, and still
//! does. Documented as `application/json` with `T`'s schema; parsed by serde, strictly
//! (poem-openapi's own parsing takes `5` for the string `"5"`), so a field of the wrong
//! type is a 400. The rules the schema states (patterns, lengths) are checked by the
//! operations, with their own alerts.

use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::i18n::Alert;

use super::MAX_ADMIN_BODY_BYTES;
use crate::edge;
use crate::error::{ApiError, Failure};

/// The body as `T`. An empty body reads as `{}`.
pub struct JsonBody<T>(pub T);

impl<'a, T: Type + DeserializeOwned + Send> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: T::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        _request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let fail = |error: ApiError| poem::Error::from(Failure::from(error));
        let bytes = edge::read_body(body.take()?, MAX_ADMIN_BODY_BYTES)
            .await
            .map_err(fail)?;
        let value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|_| fail(ApiError::Client(Alert::RequestInvalidJson)))?
        };
        let invalid = if value.is_object() {
            Alert::RequestInvalidField
        } else {
            Alert::RequestInvalidJson
        };
        serde_json::from_value(value)
            .map(Self)
            .map_err(|_| fail(ApiError::Client(invalid)))
    }
}

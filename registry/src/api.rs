//! The REST API, route for route Confluent's Schema Registry API for Avro (the subset
//! Redpanda serves too): subjects, versions (by number and `latest`), schemas by id, lookup,
//! compatibility tests, global and per-subject config, soft and permanent deletes, `/mode`
//! and `/schemas/types`.
//!
//! Every answer is JSON with the content type `application/vnd.schemaregistry.v1+json`;
//! every error is `{"error_code": <Confluent code>, "message": ...}` with Confluent's HTTP
//! status (see [`Error`]) — including unknown routes, bad paths, bad JSON and bodies over the
//! size limit, which the framework would otherwise answer in plain text.
//!
//! Handlers hand the blocking store calls to tokio's blocking pool.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State as AxumState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::compat::Level;
use crate::error::Error;
use crate::schema;
use crate::state::VersionSpec;
use crate::store::KafkaStore;

/// The content type of every answer.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// The default limit on request bodies: schemas are small, and the stored record must fit
/// a Kafka message (1 MiB by default) with room for JSON escaping.
pub const DEFAULT_MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Clone)]
struct Shared {
    store: Arc<KafkaStore>,
    max_body_bytes: usize,
}

/// A JSON answer with the registry's content type.
struct Reply(StatusCode, Value);

fn ok(value: Value) -> Result<Reply, Error> {
    Ok(Reply(StatusCode::OK, value))
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (self.0, self.1.to_string()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        response
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::warn!(code = self.code(), "registry request failed: {self}");
        }
        Reply(self.status(), json!({ "error_code": self.code(), "message": self.to_string() })).into_response()
    }
}

/// The router of the registry API over `store`, refusing bodies over `max_body_bytes`.
pub fn router(store: Arc<KafkaStore>, max_body_bytes: usize) -> Router {
    let shared = Shared { store, max_body_bytes };
    Router::new()
        .route("/", get(|| async { ok(json!({})) }))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(list_versions).post(register))
        .route("/subjects/{subject}/versions/{version}", get(get_version).delete(delete_version))
        .route("/subjects/{subject}/versions/{version}/schema", get(get_version_schema))
        .route("/subjects/{subject}/versions/{version}/referencedby", get(referenced_by))
        .route("/schemas/types", get(|| async { ok(json!(["AVRO"])) }))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/versions", get(id_versions))
        .route("/schemas/ids/{id}/subjects", get(id_subjects))
        .route("/compatibility/subjects/{subject}/versions", post(compatibility_all))
        .route("/compatibility/subjects/{subject}/versions/{version}", post(compatibility_one))
        .route("/config", get(get_global_config).put(put_global_config).delete(delete_global_config))
        .route("/config/{subject}", get(get_subject_config).put(put_subject_config).delete(delete_subject_config))
        .route("/mode", get(|| async { ok(json!({ "mode": "READWRITE" })) }))
        .route("/mode/{subject}", get(|| async { ok(json!({ "mode": "READWRITE" })) }))
        .fallback(|| async { Error::NotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        // The extractor enforces the limit and the handlers turn its rejection into a
        // Confluent error body.
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(shared)
}

/// Serves the API on `listener` until `shutdown` completes.
///
/// # Errors
/// When the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, store: Arc<KafkaStore>, max_body_bytes: usize, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, router(store, max_body_bytes)).with_graceful_shutdown(shutdown).await
}

/// Runs `work` against the store on a blocking thread.
async fn blocking<T: Send + 'static>(shared: &Shared, work: impl FnOnce(&KafkaStore) -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    let store = shared.store.clone();
    tokio::task::spawn_blocking(move || work(&store)).await.map_err(|e| Error::Store(format!("request task failed: {e}")))?
}

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn flags(params: Params) -> Result<HashMap<String, String>, Error> {
    params.map(|Query(p)| p).map_err(|e| Error::BadRequest(e.body_text()))
}

fn flag(params: &HashMap<String, String>, name: &str) -> bool {
    params.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, Error> {
    p.map(|Path(p)| p).map_err(|e| Error::BadRequest(e.body_text()))
}

fn schema_id(id: &str) -> Result<u32, Error> {
    id.parse::<u32>().map_err(|_| Error::SchemaNotFound(format!("Schema {id} not found")))
}

/// The JSON object of a request body.
fn body_json(shared: &Shared, body: Result<Bytes, BytesRejection>) -> Result<serde_json::Map<String, Value>, Error> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge(shared.max_body_bytes)
        } else {
            Error::BadRequest(e.body_text())
        }
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::Unprocessable("the request body must be a JSON object".into())),
        Err(e) => Err(Error::BadRequest(format!("the request body is not JSON: {e}"))),
    }
}

/// The schema of a register, lookup or compatibility request body, parsed.
fn schema_of(shared: &Shared, body: Result<Bytes, BytesRejection>) -> Result<schema::ParsedSchema, Error> {
    let body = body_json(shared, body)?;
    match body.get("schemaType") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("AVRO") => {}
        Some(other) => return Err(Error::InvalidSchema(format!("schema type {other} is not supported by this registry; it serves AVRO only"))),
    }
    if body.get("references").and_then(Value::as_array).is_some_and(|r| !r.is_empty()) {
        return Err(Error::InvalidSchema("schema references are not supported by this registry".into()));
    }
    let text = match body.get("schema") {
        Some(Value::String(text)) if !text.trim().is_empty() => text,
        Some(Value::String(_)) | None | Some(Value::Null) => return Err(Error::InvalidSchema("Empty schema".into())),
        Some(_) => return Err(Error::InvalidSchema("\"schema\" must be a string holding the schema's JSON".into())),
    };
    schema::parse(text).map_err(|e| Error::InvalidSchema(e.to_string()))
}

fn level_of(shared: &Shared, body: Result<Bytes, BytesRejection>) -> Result<Level, Error> {
    let body = body_json(shared, body)?;
    let value = body.get("compatibility").or_else(|| body.get("compatibilityLevel"));
    match value {
        Some(Value::String(level)) => level.parse().map_err(|_| Error::InvalidCompatibilityLevel(level.clone())),
        other => Err(Error::InvalidCompatibilityLevel(other.map_or_else(|| "nothing".into(), ToString::to_string))),
    }
}

async fn list_subjects(AxumState(shared): AxumState<Shared>, params: Params) -> Result<Reply, Error> {
    let deleted = flag(&flags(params)?, "deleted");
    let subjects = blocking(&shared, move |store| Ok(store.read(|s| s.subjects(deleted)))).await?;
    ok(json!(subjects))
}

async fn list_versions(AxumState(shared): AxumState<Shared>, subject: Result<Path<String>, PathRejection>, params: Params) -> Result<Reply, Error> {
    let subject = path(subject)?;
    let deleted = flag(&flags(params)?, "deleted");
    let versions = blocking(&shared, move |store| store.read(|s| s.versions(&subject, deleted))).await?;
    ok(json!(versions))
}

async fn register(AxumState(shared): AxumState<Shared>, subject: Result<Path<String>, PathRejection>, body: Result<Bytes, BytesRejection>) -> Result<Reply, Error> {
    let subject = path(subject)?;
    let parsed = schema_of(&shared, body)?;
    let id = blocking(&shared, move |store| store.change(|s| s.plan_register(&subject, &parsed))).await?;
    ok(json!({ "id": id }))
}

async fn lookup(AxumState(shared): AxumState<Shared>, subject: Result<Path<String>, PathRejection>, params: Params, body: Result<Bytes, BytesRejection>) -> Result<Reply, Error> {
    let subject = path(subject)?;
    let deleted = flag(&flags(params)?, "deleted");
    let parsed = schema_of(&shared, body)?;
    let found = blocking(&shared, move |store| store.read(|s| s.lookup(&subject, &parsed, deleted))).await?;
    ok(json!(found))
}

async fn get_version(AxumState(shared): AxumState<Shared>, p: Result<Path<(String, String)>, PathRejection>, params: Params) -> Result<Reply, Error> {
    let (subject, version) = path(p)?;
    let deleted = flag(&flags(params)?, "deleted");
    let spec = VersionSpec::parse(&version)?;
    let found = blocking(&shared, move |store| store.read(|s| s.version(&subject, spec, deleted))).await?;
    ok(json!(found))
}

async fn get_version_schema(AxumState(shared): AxumState<Shared>, p: Result<Path<(String, String)>, PathRejection>, params: Params) -> Result<Reply, Error> {
    let (subject, version) = path(p)?;
    let deleted = flag(&flags(params)?, "deleted");
    let spec = VersionSpec::parse(&version)?;
    let found = blocking(&shared, move |store| store.read(|s| s.version(&subject, spec, deleted))).await?;
    raw_schema(&found.schema)
}

fn raw_schema(text: &str) -> Result<Reply, Error> {
    let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()));
    ok(value)
}

async fn referenced_by(AxumState(shared): AxumState<Shared>, p: Result<Path<(String, String)>, PathRejection>) -> Result<Reply, Error> {
    let (subject, version) = path(p)?;
    let spec = VersionSpec::parse(&version)?;
    blocking(&shared, move |store| store.read(|s| s.version(&subject, spec, false))).await?;
    // This registry does not support references, so nothing refers to anything.
    ok(json!([]))
}

async fn delete_subject(AxumState(shared): AxumState<Shared>, subject: Result<Path<String>, PathRejection>, params: Params) -> Result<Reply, Error> {
    let subject = path(subject)?;
    let permanent = flag(&flags(params)?, "permanent");
    let versions = blocking(&shared, move |store| store.change(|s| s.plan_delete_subject(&subject, permanent))).await?;
    ok(json!(versions))
}

async fn delete_version(AxumState(shared): AxumState<Shared>, p: Result<Path<(String, String)>, PathRejection>, params: Params) -> Result<Reply, Error> {
    let (subject, version) = path(p)?;
    let permanent = flag(&flags(params)?, "permanent");
    let spec = VersionSpec::parse(&version)?;
    let version = blocking(&shared, move |store| store.change(|s| s.plan_delete_version(&subject, spec, permanent))).await?;
    ok(json!(version))
}

async fn schema_by_id(AxumState(shared): AxumState<Shared>, id: Result<Path<String>, PathRejection>) -> Result<Reply, Error> {
    let id = schema_id(&path(id)?)?;
    let text = blocking(&shared, move |store| store.read(|s| s.schema_by_id(id).map(|st| st.text.clone())).ok_or_else(|| Error::SchemaNotFound(format!("Schema {id} not found")))).await?;
    ok(json!({ "schema": text }))
}

async fn raw_schema_by_id(AxumState(shared): AxumState<Shared>, id: Result<Path<String>, PathRejection>) -> Result<Reply, Error> {
    let id = schema_id(&path(id)?)?;
    let text = blocking(&shared, move |store| store.read(|s| s.schema_by_id(id).map(|st| st.text.clone())).ok_or_else(|| Error::SchemaNotFound(format!("Schema {id} not found")))).await?;
    raw_schema(&text)
}

async fn id_usages(shared: &Shared, id: u32, deleted: bool) -> Result<Vec<(String, u32)>, Error> {
    blocking(shared, move |store| {
        store.read(|s| {
            if s.schema_by_id(id).is_none() {
                return Err(Error::SchemaNotFound(format!("Schema {id} not found")));
            }
            Ok(s.usages(id, deleted))
        })
    })
    .await
}

async fn id_versions(AxumState(shared): AxumState<Shared>, id: Result<Path<String>, PathRejection>, params: Params) -> Result<Reply, Error> {
    let id = schema_id(&path(id)?)?;
    let deleted = flag(&flags(params)?, "deleted");
    let usages = id_usages(&shared, id, deleted).await?;
    ok(json!(usages.into_iter().map(|(subject, version)| json!({ "subject": subject, "version": version })).collect::<Vec<_>>()))
}

async fn id_subjects(AxumState(shared): AxumState<Shared>, id: Result<Path<String>, PathRejection>, params: Params) -> Result<Reply, Error> {
    let id = schema_id(&path(id)?)?;
    let deleted = flag(&flags(params)?, "deleted");
    let mut subjects: Vec<String> = id_usages(&shared, id, deleted).await?.into_iter().map(|(s, _)| s).collect();
    subjects.dedup();
    ok(json!(subjects))
}

async fn compatibility(shared: Shared, subject: String, spec: Option<VersionSpec>, params: Params, body: Result<Bytes, BytesRejection>) -> Result<Reply, Error> {
    let verbose = flag(&flags(params)?, "verbose");
    let parsed = schema_of(&shared, body)?;
    let violations = blocking(&shared, move |store| store.read(|s| s.test_compatibility(&subject, spec, &parsed))).await?;
    let mut answer = json!({ "is_compatible": violations.is_empty() });
    if verbose {
        answer["messages"] = json!(violations.iter().map(ToString::to_string).collect::<Vec<_>>());
    }
    ok(answer)
}

async fn compatibility_one(AxumState(shared): AxumState<Shared>, p: Result<Path<(String, String)>, PathRejection>, params: Params, body: Result<Bytes, BytesRejection>) -> Result<Reply, Error> {
    let (subject, version) = path(p)?;
    let spec = VersionSpec::parse(&version)?;
    compatibility(shared, subject, Some(spec), params, body).await
}

async fn compatibility_all(AxumState(shared): AxumState<Shared>, subject: Result<Path<String>, PathRejection>, params: Params, body: Result<Bytes, BytesRejection>) -> Result<Reply, Error> {
    let subject = path(subject)?;
    compatibility(shared, subject, None, params, body).await
}

async fn get_global_config(AxumState(shared): AxumState<Shared>) -> Result<Reply, Error> {
    let level = blocking(&shared, |store| Ok(store.read(|s| s.level(None).unwrap_or_default()))).await?;
    ok(json!({ "compatibilityLevel": level.as_str() }))
}

async fn put_global_config(AxumState(shared): AxumState<Shared>, body: Result<Bytes, BytesRejection>) -> Result<Reply, Error> {
    let level = level_of(&shared, body)?;
    let level = blocking(&shared, move |store| store.change(|s| Ok(s.plan_set_level(None, level)))).await?;
    ok(json!({ "compatibility": level.as_str() }))
}

async fn delete_global_config(AxumState(shared): AxumState<Shared>) -> Result<Reply, Error> {
    let level = blocking(&shared, |store| store.change(|s| s.plan_delete_level(None))).await?;
    ok(json!({ "compatibilityLevel": level.as_str() }))
}

async fn get_subject_config(AxumState(shared): AxumState<Shared>, subject: Result<Path<String>, PathRejection>, params: Params) -> Result<Reply, Error> {
    let subject = path(subject)?;
    let to_global = flag(&flags(params)?, "defaultToGlobal");
    let level = blocking(&shared, move |store| {
        store.read(|s| match s.level(Some(&subject)) {
            Some(level) => Ok(level),
            None if to_global => Ok(s.level(None).unwrap_or_default()),
            None => Err(Error::SubjectLevelNotConfigured(subject.clone())),
        })
    })
    .await?;
    ok(json!({ "compatibilityLevel": level.as_str() }))
}

async fn put_subject_config(AxumState(shared): AxumState<Shared>, subject: Result<Path<String>, PathRejection>, body: Result<Bytes, BytesRejection>) -> Result<Reply, Error> {
    let subject = path(subject)?;
    let level = level_of(&shared, body)?;
    let level = blocking(&shared, move |store| store.change(|s| Ok(s.plan_set_level(Some(&subject), level)))).await?;
    ok(json!({ "compatibility": level.as_str() }))
}

async fn delete_subject_config(AxumState(shared): AxumState<Shared>, subject: Result<Path<String>, PathRejection>) -> Result<Reply, Error> {
    let subject = path(subject)?;
    let level = blocking(&shared, move |store| store.change(|s| s.plan_delete_level(Some(&subject)))).await?;
    ok(json!({ "compatibilityLevel": level.as_str() }))
}

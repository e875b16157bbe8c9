//! Trace export: the workflow's step spans as OpenTelemetry spans over
//! OTLP/HTTP (protobuf), for a collector that forwards them to Application
//! Insights or any other backend.
//!
//! Every step an agent takes runs in a `step` span ([`step_span`]) with the
//! tenant, conversation, step and agent as attributes. Its trace is the
//! turn's: the trace id is the turn's correlation id (the id of the
//! customer message that started it, a UUID, 128 bits like a trace id), so
//! every step of a turn, whichever process or replica took it, lines up in
//! one trace without any context travelling in the events.
//!
//! [`OtlpExport::start`] is what the binary calls when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set: a batch exporter that sends from
//! its own thread with our HTTP client on the process's tokio runtime.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use switchboard_engine::ids::{ConversationKey, EventId};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Why trace export could not start.
#[derive(Debug, thiserror::Error)]
#[error("trace export to {endpoint}: {message}")]
pub struct TelemetryError {
    /// The OTLP endpoint.
    pub endpoint: String,
    /// What went wrong.
    pub message: String,
}

/// The trace id of a turn: its correlation id's 128 bits.
pub fn trace_id(correlation: EventId) -> TraceId {
    TraceId::from_bytes(*correlation.as_uuid().as_bytes())
}

/// The span of one step, in the trace of its turn.
pub fn step_span(
    key: &ConversationKey,
    step: &str,
    agent: &str,
    correlation: EventId,
) -> tracing::Span {
    let span = tracing::info_span!(
        "step",
        otel.name = %format!("{agent} {step}"),
        tenant = %key.tenant,
        conversation = %key.id,
        step,
        agent,
        correlation = %correlation.as_uuid(),
    );
    let bytes = correlation.as_uuid().into_bytes();
    let mut parent = [0u8; 8];
    parent.copy_from_slice(&bytes[8..]);
    let remote = SpanContext::new(
        trace_id(correlation),
        SpanId::from_bytes(parent),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    // Only fails when no OpenTelemetry layer is installed: then there is
    // nothing to link.
    let _ = span.set_parent(Context::new().with_remote_span_context(remote));
    span
}

/// Sends OTLP requests with reqwest on the tokio runtime it was made on:
/// the batch exporter calls from a thread of its own, outside the runtime.
#[derive(Debug, Clone)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let request = reqwest::Request::try_from(request)?;
            let response = client.execute(request).await?;
            let status = response.status();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>(Response::builder().status(status).body(body))
        });
        Ok(sent.await??.map_err(Box::new)?)
    }
}

/// Trace export running; flush and stop it with [`OtlpExport::shutdown`].
pub struct OtlpExport {
    provider: SdkTracerProvider,
}

impl OtlpExport {
    /// Exports to `endpoint` (the collector's base URL, e.g.
    /// `http://127.0.0.1:4318`; `/v1/traces` is added) as `service`.
    /// Must be called inside a tokio runtime.
    pub fn start(endpoint: &str, service: &str) -> Result<Self, TelemetryError> {
        let error = |message: String| TelemetryError {
            endpoint: endpoint.to_owned(),
            message,
        };
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| error(format!("no async runtime: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| error(e.to_string()))?;
        let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(OnRuntime { client, runtime })
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(traces)
            .build()
            .map_err(|e| error(e.to_string()))?;
        let resource = Resource::builder()
            .with_attributes([KeyValue::new("service.name", service.to_owned())])
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        Ok(Self { provider })
    }

    /// The `tracing` layer that turns spans into exported ones.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        use opentelemetry::trace::TracerProvider;
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("switchboard"))
    }

    /// Sends what is buffered and stops; blocks, so call it off the
    /// runtime's worker threads (e.g. after `block_on` returned).
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("warning: trace export did not flush: {e}");
        }
    }
}

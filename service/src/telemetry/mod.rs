//! OpenTelemetry traces: spans for consuming, handling and producing events, exported over
//! OTLP/gRPC and joined across agents by the `traceparent` header.

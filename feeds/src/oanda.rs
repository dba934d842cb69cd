//! One OANDA v20 pricing stream: `GET /v3/accounts/{account}/pricing/stream?instruments=…`
//! over HTTP/1.1 (TLS for `https://`), a chunked body of newline-delimited JSON, PRICE and
//! HEARTBEAT lines. Resubscribing means reopening the request, which happens every
//! `resubscribe`; a stall, an error status or the end of the body end the connection.

use bytes::{Buf, BytesMut};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use maxx_agents::market_data::oanda::stream_path;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::runner::{after, until, Context, End, Shutdown};

/// A plain or TLS connection.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// `scheme://host[:port][/prefix]`, split.
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
    prefix: String,
}

fn endpoint(url: &str) -> Result<Endpoint, String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("{url:?} has no scheme"))?;
    let tls = match scheme {
        "https" => true,
        "http" => false,
        other => return Err(format!("scheme {other:?} is not http or https")),
    };
    let (authority, prefix) = rest.split_once('/').map_or((rest, String::new()), |(a, p)| (a, format!("/{}", p.trim_end_matches('/'))));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().map_err(|_| format!("port {port:?} is not a number"))?),
        None => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    Ok(Endpoint { tls, host: host.to_owned(), port, prefix })
}

async fn connect(context: &Context<'_>, target: &Endpoint) -> Result<Box<dyn Io>, String> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| format!("connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    if !target.tls {
        return Ok(Box::new(tcp));
    }
    let name = rustls::pki_types::ServerName::try_from(target.host.clone()).map_err(|e| format!("server name: {e}"))?;
    let tls = tokio_rustls::TlsConnector::from(context.tls.clone()).connect(name, tcp).await.map_err(|e| format!("tls: {e}"))?;
    Ok(Box::new(tls))
}

pub(crate) async fn session(context: &mut Context<'_>, shutdown: &mut Shutdown) -> End {
    let settings = context.settings;
    let target = match endpoint(&settings.endpoint) {
        Ok(target) => target,
        Err(reason) => return End::Error(reason),
    };
    let io = tokio::select! {
        () = shutdown.wait() => return End::Shutdown,
        result = tokio::time::timeout(settings.stall_timeout, connect(context, &target)) => match result {
            Err(_) => return End::Error(format!("connect timed out after {:?}", settings.stall_timeout)),
            Ok(Err(reason)) => return End::Error(reason),
            Ok(Ok(io)) => io,
        },
    };
    let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(io)).await {
        Ok(pair) => pair,
        Err(error) => return End::Error(format!("http handshake: {error}")),
    };
    // The connection is driven by its own task, ended with the session.
    let driver = AbortOnDrop(tokio::spawn(async move {
        let _ = connection.await;
    }));

    let path = format!("{}{}", target.prefix, stream_path(&settings.oanda_account, &settings.instruments()));
    let host = if (target.tls && target.port == 443) || (!target.tls && target.port == 80) { target.host.clone() } else { format!("{}:{}", target.host, target.port) };
    let mut request = Request::get(path).header("host", host).header("accept-datetime-format", "RFC3339");
    if let Some(token) = &settings.oanda_token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match request.body(Empty::<Bytes>::new()) {
        Ok(request) => request,
        Err(error) => return End::Error(format!("request: {error}")),
    };
    let response = tokio::select! {
        () = shutdown.wait() => return End::Shutdown,
        result = tokio::time::timeout(settings.stall_timeout, sender.send_request(request)) => match result {
            Err(_) => return End::Error(format!("no response within {:?}", settings.stall_timeout)),
            Ok(Err(error)) => return End::Error(format!("request: {error}")),
            Ok(Ok(response)) => response,
        },
    };
    context.health.connected();
    context.health.subscribed();
    let status = response.status();
    let mut body = response.into_body();
    if !status.is_success() {
        let detail = match tokio::time::timeout(settings.stall_timeout, body.collect()).await {
            Ok(Ok(collected)) => String::from_utf8_lossy(&collected.to_bytes()).chars().take(200).collect(),
            _ => String::new(),
        };
        return End::Error(format!("status {status}: {detail}"));
    }

    let reopen = after(settings.resubscribe);
    let mut last = Instant::now();
    let mut buffer = BytesMut::new();
    let end = loop {
        tokio::select! {
            () = shutdown.wait() => break End::Shutdown,
            () = until(last + settings.stall_timeout) => break End::Stalled,
            () = until(reopen) => break End::Resubscribe,
            frame = body.frame() => match frame {
                None => break End::Closed("the stream ended".into()),
                Some(Err(error)) => break End::Error(format!("read: {error}")),
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else { continue };
                    buffer.extend_from_slice(&data);
                    while let Some(newline) = buffer.iter().position(|b| *b == b'\n') {
                        let line = buffer.split_to(newline);
                        buffer.advance(1);
                        let text = String::from_utf8_lossy(&line);
                        let text = text.trim();
                        if text.is_empty() {
                            continue;
                        }
                        last = Instant::now();
                        if let Err(end) = context.deliver(text).await {
                            return end;
                        }
                    }
                }
            },
        }
    };
    drop(driver);
    end
}

/// Aborts the task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_split_into_scheme_host_port_and_prefix() {
        assert_eq!(endpoint("https://stream-fxtrade.oanda.com"), Ok(Endpoint { tls: true, host: "stream-fxtrade.oanda.com".into(), port: 443, prefix: String::new() }));
        assert_eq!(endpoint("http://127.0.0.1:8080/mock/"), Ok(Endpoint { tls: false, host: "127.0.0.1".into(), port: 8080, prefix: "/mock".into() }));
        assert!(endpoint("ws://x").is_err());
        assert!(endpoint("http://:80").is_err());
        assert!(endpoint("http://h:port").is_err());
    }
}

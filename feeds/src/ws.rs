//! One WebSocket connection to Binance, Coinbase or Bybit: connect, subscribe, resubscribe
//! every `resubscribe`, keep Bybit alive with its application ping, deliver text frames to
//! the normalizer, and end on a close, an error, a stall or shutdown.

use futures_util::{SinkExt, StreamExt};
use maxx_agents::market_data::{binance, bybit, coinbase, Venue};
use tokio::time::{interval_at, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async_tls_with_config, Connector};

use crate::runner::{after, until, Context, End, Shutdown};

/// The subscription request of the venue, numbered `n`.
fn subscription(context: &Context<'_>, n: u64) -> String {
    let instruments = context.settings.instruments();
    match context.settings.venue {
        Venue::Binance => binance::subscribe(&instruments, n),
        Venue::Coinbase => coinbase::subscribe(&instruments),
        Venue::Bybit | Venue::Oanda => bybit::subscribe(&instruments, n),
    }
}

pub(crate) async fn session(context: &mut Context<'_>, shutdown: &mut Shutdown) -> End {
    let settings = context.settings;
    let connector = Connector::Rustls(context.tls.clone());
    let connecting = connect_async_tls_with_config(settings.endpoint.as_str(), None, true, Some(connector));
    let stream = tokio::select! {
        () = shutdown.wait() => return End::Shutdown,
        result = tokio::time::timeout(settings.stall_timeout, connecting) => match result {
            Err(_) => return End::Error(format!("connect timed out after {:?}", settings.stall_timeout)),
            Ok(Err(error)) => return End::Error(format!("connect: {error}")),
            Ok(Ok((stream, _response))) => stream,
        },
    };
    context.health.connected();
    let (mut sink, mut source) = stream.split();
    let mut requests = 1u64;
    if let Err(error) = sink.send(Message::text(subscription(context, requests))).await {
        return End::Error(format!("subscribe: {error}"));
    }
    context.health.subscribed();
    let mut resubscribe = interval_at(after(settings.resubscribe), settings.resubscribe);
    let mut ping = interval_at(after(settings.ping_interval), settings.ping_interval);
    let mut last = Instant::now();
    loop {
        tokio::select! {
            () = shutdown.wait() => {
                let _ = sink.send(Message::Close(None)).await;
                return End::Shutdown;
            }
            () = until(last + settings.stall_timeout) => return End::Stalled,
            _ = resubscribe.tick() => {
                requests += 1;
                if let Err(error) = sink.send(Message::text(subscription(context, requests))).await {
                    return End::Error(format!("resubscribe: {error}"));
                }
                context.health.subscribed();
                tracing::debug!(venue = %settings.venue, "resubscribed");
            }
            _ = ping.tick(), if settings.venue == Venue::Bybit => {
                if let Err(error) = sink.send(Message::text(bybit::ping())).await {
                    return End::Error(format!("ping: {error}"));
                }
            }
            frame = source.next() => match frame {
                None => return End::Closed("the connection ended".into()),
                Some(Err(error)) => return End::Error(format!("read: {error}")),
                Some(Ok(Message::Text(text))) => {
                    last = Instant::now();
                    if let Err(end) = context.deliver(text.as_str()).await {
                        return end;
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    last = Instant::now();
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    if let Err(end) = context.deliver(&text).await {
                        return end;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return End::Closed(frame.map_or_else(|| "close frame".to_owned(), |f| format!("close frame {}: {}", f.code, f.reason)));
                }
                Some(Ok(Message::Ping(_))) => {
                    // tungstenite queued the pong; a flush sends it.
                    if let Err(error) = sink.flush().await {
                        return End::Error(format!("pong: {error}"));
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

//! Replay of the log through the agents' own code: the audit that rebuilds portfolio and risk
//! state and checks it against the live snapshots, and backtests that replay ticks. It
//! arrives with the replay issue; this crate is where it lives.

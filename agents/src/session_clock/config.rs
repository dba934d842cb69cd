//! `session_clock:` section of `agent_config.yaml`: the calendar of the four regional
//! sessions — time zone, local open and close, trading weekdays, holidays.
//!
//! Values are written as text (`"08:00"`, `"Mon"`, `"2026-12-25"`, `Europe/London`) and
//! checked by [`Validate`], which compiles them into a [`Calendar`]: a configuration that
//! validates always compiles.

use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use crate::config::{ConfigError, Validate};

/// `session_clock:` — one entry per session; `null` switches a session off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionClockConfig {
    /// London (default 08:00–16:30 Europe/London, Mon–Fri).
    pub london: Option<SessionSpec>,
    /// New York (default 09:30–16:00 America/New_York, Mon–Fri).
    pub new_york: Option<SessionSpec>,
    /// Tokyo (default 09:00–15:00 Asia/Tokyo, Mon–Fri).
    pub tokyo: Option<SessionSpec>,
    /// Sydney (default 10:00–16:00 Australia/Sydney, Mon–Fri).
    pub sydney: Option<SessionSpec>,
}

impl Default for SessionClockConfig {
    fn default() -> Self {
        Self {
            london: Some(SessionSpec::weekdays("Europe/London", "08:00", "16:30")),
            new_york: Some(SessionSpec::weekdays("America/New_York", "09:30", "16:00")),
            tokyo: Some(SessionSpec::weekdays("Asia/Tokyo", "09:00", "15:00")),
            sydney: Some(SessionSpec::weekdays("Australia/Sydney", "10:00", "16:00")),
        }
    }
}

impl Validate for SessionClockConfig {
    fn problems(&self) -> Vec<ConfigError> {
        Calendar::new(self).err().unwrap_or_default()
    }
}

/// One session's calendar. Times are local wall-clock times in `zone`; weekdays and
/// holidays are local dates of the open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    /// IANA time zone, e.g. `Europe/London`.
    pub zone: String,
    /// Local opening time, `HH:MM` (or `HH:MM:SS`).
    pub open: String,
    /// Local closing time, `HH:MM`; at or before `open` means the next calendar day (an
    /// overnight session).
    pub close: String,
    /// Days the session opens: `Mon`, `Tue`, `Wed`, `Thu`, `Fri`, `Sat`, `Sun` (any case,
    /// full names accepted).
    #[serde(default = "mon_to_fri")]
    pub weekdays: Vec<String>,
    /// Local dates (`YYYY-MM-DD`) of trading weekdays on which the session does not open.
    #[serde(default)]
    pub holidays: Vec<String>,
}

impl SessionSpec {
    /// A Monday-to-Friday session without holidays.
    pub fn weekdays(zone: &str, open: &str, close: &str) -> Self {
        Self { zone: zone.into(), open: open.into(), close: close.into(), weekdays: mon_to_fri(), holidays: Vec::new() }
    }
}

fn mon_to_fri() -> Vec<String> {
    ["Mon", "Tue", "Wed", "Thu", "Fri"].map(String::from).to_vec()
}
